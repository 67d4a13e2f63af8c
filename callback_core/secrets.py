"""Where secrets come from (the HMAC secret, the auth header value): an environment variable or a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from callback_core.errors import SecretError

SECRET_ENV = "CARD_CALLBACK_HMAC_SECRET"


def load_secret(environ: Mapping[str, str], secret_file: Path | None = None) -> str | None:
    """The configured secret, or None when signing is off (nothing set, or set empty).

    A file wins over the environment; one trailing newline is dropped (editors add it).
    """
    return load_value(environ, SECRET_ENV, secret_file, "HMAC secret")


def load_value(environ: Mapping[str, str], env_name: str, secret_file: Path | None, what: str) -> str | None:
    """A secret from `secret_file` (it wins) or the variable `env_name`; None when neither is set or both are empty."""
    if secret_file is not None:
        try:
            raw = secret_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SecretError(f"cannot read {secret_file}: {exc.strerror or exc}", what) from None
        except UnicodeDecodeError:
            raise SecretError(f"{secret_file} is not UTF-8 text", what) from None
        secret = raw.removesuffix("\n").removesuffix("\r")
        if not secret:
            raise SecretError(f"{secret_file} is empty", what)
        return secret
    return environ.get(env_name) or None
