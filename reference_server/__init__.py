"""The reference PSP: a careful card-callback endpoint served by Connexion straight from the document."""

from reference_server.app import create_app

__all__ = ["create_app"]
