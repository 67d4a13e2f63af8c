"""A document rewritten in another editing style (bodies into components, compositions) means the same: diff
reports only what changed in meaning."""

from __future__ import annotations

from pathlib import Path

from callback_core.spec import Contract, bundled_document, bundled_spec_path
from contract_diff.engine import diff

DOCUMENTS = Path(__file__).resolve().parents[1] / "documents"


def test_moving_bodies_answers_and_parameters_into_components_changes_nothing() -> None:
    old = Contract.from_file(bundled_spec_path())
    new = Contract.from_file(DOCUMENTS / "v1-in-components.yaml")
    assert diff(old, new).changes == ()


def test_compositions_of_the_same_shapes_change_nothing_but_the_nullable_field() -> None:
    old = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    new = Contract.from_file(DOCUMENTS / "composed-revision.yaml")
    found = [(finding.rule.id, finding.field) for finding in diff(old, new).changes]
    # The card variants became allOf of a shared base with an implicit mapping, the amount a one-branch anyOf,
    # the card type a one-branch oneOf: the same callbacks. Only the answer field made nullable is a change.
    assert found == [("CD029", "/networkTransactionReference")]
