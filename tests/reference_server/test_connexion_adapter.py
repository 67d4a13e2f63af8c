"""Canary for reference_server/connexion_app.py, the one module that reaches into Connexion: it fails loudly,
naming what moved, when the installed Connexion differs from the pin or an internal it uses is gone."""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

from reference_server import connexion_app


def test_the_installed_connexion_is_the_pinned_one() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [r for r in pyproject["project"]["dependencies"] if r.startswith("connexion")]
    assert pins == [f"connexion[uvicorn,swagger-ui]=={connexion_app.PINNED_VERSION}"]
    assert version("connexion") == connexion_app.PINNED_VERSION, (
        f"connexion {version('connexion')} is installed, connexion_app.py was written for "
        f"{connexion_app.PINNED_VERSION}: re-read the internals it uses, then move the pin"
    )


def test_the_internals_the_adapter_uses_are_there() -> None:
    from connexion import AsyncApp
    from connexion.apps.abstract import AbstractApp
    from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
    from connexion.context import scope
    from connexion.decorators import StarletteDecorator
    from connexion.middleware import routing
    from connexion.validators import ParameterValidator

    # ReferenceApp replays AsyncApp.__init__ with its own framework app.
    assert "self._middleware_app: AsyncASGIApp = AsyncASGIApp()" in inspect.getsource(AsyncApp.__init__)
    assert "import_name" in inspect.signature(AbstractApp.__init__).parameters
    assert AsyncASGIApp.api_cls is AsyncApi and callable(AsyncApi.make_operation)
    assert isinstance(inspect.getattr_static(AsyncOperation, "fn"), property)
    assert callable(AsyncOperation.from_operation)
    assert {"decorate", "uri_parser", "framework"} <= set(dir(StarletteDecorator))
    assert callable(scope._get_current_object)
    assert isinstance(inspect.getattr_static(ParameterValidator, "validate_parameter"), staticmethod)
    routing_source = inspect.getsource(routing)
    assert "extensions.setdefault(ROUTING_CONTEXT" in routing_source and '"operation_id"' in routing_source
