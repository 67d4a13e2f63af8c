"""The server's own document is valid OpenAPI 3.0, and the card file is checked against the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from callback_core.spec import Contract, bundled_document, read_document
from reference_server.cards import CARDS_FILE, load_cards
from reference_server.errors import ConfigError


def test_reference_server_document_is_valid_openapi_3_0() -> None:
    document = read_document(bundled_document("reference-server.yaml"))
    assert document["openapi"].startswith("3.0.")
    assert list(OpenAPIV30SpecValidator(document).iter_errors()) == []
    operations = {
        op["operationId"] for item in document["paths"].values() for op in item.values() if isinstance(op, dict)
    }
    assert operations == {"threeDSecurePage", "threeDSecureDecision", "getAttempt"}


def test_card_listed_twice_is_refused(tmp_path: Path, contract: Contract) -> None:
    cards = tmp_path / "cards.yaml"
    cards.write_text(CARDS_FILE.read_text(encoding="utf-8").replace('last4: "0043"', 'last4: "0051"'),
                     encoding="utf-8")
    with pytest.raises(ConfigError, match="listed more than once: 0051"):
        load_cards(contract, cards)
