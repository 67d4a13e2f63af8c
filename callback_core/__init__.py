"""Shared core of the card-callback toolkit: the contract document, the HMAC scheme, errors."""
