"""What `serve --workers` hands each spawned process: the document and both secrets, pickled, never shown."""

from __future__ import annotations

import pickle
from pathlib import Path

from card_callback.serve import Settings


def test_settings_survive_the_process_pipe_and_hide_their_secrets() -> None:
    settings = Settings("hmac-secret-value", Path("openapi/card-callback-v2.yaml"), "auth-header-value")
    copied = pickle.loads(pickle.dumps(settings))
    assert copied == settings
    assert copied.app_options() == {"hmac_secret": "hmac-secret-value",
                                    "spec_path": Path("openapi/card-callback-v2.yaml"),
                                    "auth_header_value": "auth-header-value"}
    assert "secret-value" not in repr(settings) and "header-value" not in repr(settings)
