"""Each diff rule on its fixture pair: it reports exactly the changes its fixture expects, nothing else."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from callback_core.spec import Contract
from contract_diff.engine import diff
from contract_diff.model import Breaks, Level
from contract_diff.rules import rules

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = yaml.safe_load((FIXTURES / "base.yaml").read_text(encoding="utf-8"))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def fixture_pair(rule_id: str) -> tuple[Contract, Contract, set[tuple[str, str]]]:
    fixture = yaml.safe_load((FIXTURES / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    base = merge_patch(BASE, fixture.get("both") or {})
    old = Contract.from_dict(merge_patch(base, fixture["old"]), source=f"{rule_id}-old.yaml")
    new = Contract.from_dict(merge_patch(base, fixture["new"]), source=f"{rule_id}-new.yaml")
    return old, new, {(str(rule), str(where)) for rule, where in fixture["expect"]}


RULES = [rule for rule, _ in rules()]


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_on_its_fixture_pair(rule: Any) -> None:
    old, new, expected = fixture_pair(rule.id)
    report = diff(old, new)
    found = {(change.rule.id, change.field or change.pointer) for change in report.changes}
    assert rule.id in {rule_id for rule_id, _ in expected}
    assert found == expected
    assert report.breaking is any(c.rule.level is Level.ERROR for c in report.changes)
    for change in report.changes:
        assert not re.search(r"\{[a-z_]+\}", change.message), change.message  # every parameter was filled


def test_every_rule_has_a_fixture_and_a_unique_stable_id() -> None:
    ids = [rule.id for rule in RULES]
    assert ids == [f"CD{n:03d}" for n in range(1, len(ids) + 1)]
    assert {p.stem for p in FIXTURES.glob("CD*.yaml")} == set(ids)


def test_a_rule_that_breaks_someone_names_who() -> None:
    for rule in RULES:
        assert (rule.level is Level.ERROR) <= (rule.breaks is not Breaks.NOBODY), rule.id
        assert rule.level is not Level.INFO or rule.breaks is Breaks.NOBODY, rule.id


def test_the_same_document_has_no_changes() -> None:
    contract = Contract.from_dict(BASE)
    assert diff(contract, contract).changes == ()


def test_request_and_response_enum_values_are_judged_the_other_way_round() -> None:
    # A new value in a callback breaks PSPs that check it; a new value in an answer breaks nobody.
    assert {c.rule.level for c in diff(*fixture_pair("CD014")[:2]).changes} == {Level.ERROR}
    assert {c.rule.level for c in diff(*fixture_pair("CD031")[:2]).changes} == {Level.INFO}
    # And the reverse direction of the same pair flips the verdicts.
    old, new, _ = fixture_pair("CD014")
    assert [c.rule.id for c in diff(new, old).changes] == ["CD015"]
    old, new, _ = fixture_pair("CD031")
    assert [c.rule.id for c in diff(new, old).changes] == ["CD032"]


def test_the_review_guide_lists_every_rule_with_the_oasdiff_ids_it_matches() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "spec-review.md").read_text(encoding="utf-8")
    for rule in RULES:
        row = next((line for line in guide.splitlines() if line.startswith(f"| {rule.id} | {rule.title} |")), None)
        assert row is not None, rule.id
        assert all(f"`{oasdiff_id}`" in row for oasdiff_id in rule.oasdiff), rule.id


def test_a_recursive_body_and_an_allof_part() -> None:
    old, new, expected = fixture_pair("recursive")
    assert {(c.rule.id, c.field or c.pointer) for c in diff(old, new).changes} == expected


def test_renamed_variant_values_are_named_and_their_fields_still_compared() -> None:
    old, new, expected = fixture_pair("renamed-variants")
    report = diff(old, new)
    assert {(c.rule.id, c.field or c.pointer) for c in report.changes} == expected
    added = {c.message for c in report.changes if c.rule.id == "CD017"}
    assert added == {"discriminator `kind` may now be `ENCRYPTED_PAN`",
                     "discriminator `kind` may now be `NETWORK_TOKEN`"}
    assert report.breaking


def test_error_codes_are_the_same_codes_in_another_type() -> None:
    old, new, _ = fixture_pair("CD061")
    (change,) = [c for c in diff(old, new).changes if c.rule.id == "CD061"]
    assert change.message == 'error codes are now integers (were strings): "51" -> 51, "43" -> 43'
    assert change.breaking and change.rule.breaks is Breaks.VIPPS


def test_an_https_rule_is_a_tightening_that_breaks_only_the_answers() -> None:
    old, new, expected = fixture_pair("https-urls")
    report = diff(old, new)
    assert {(c.rule.id, c.field or c.pointer) for c in report.changes} == expected
    by_field = {c.field: c for c in report.changes}
    assert by_field["/back"].rule.breaks is Breaks.NOBODY and not by_field["/back"].breaking
    assert by_field["/page"].rule.breaks is Breaks.VIPPS and by_field["/page"].breaking
    assert by_field["/page"].message.startswith("answer property `page` admits less: pattern `^(https://")


def test_variants_as_allof_of_a_shared_base_keep_their_own_values() -> None:
    old, new, expected = fixture_pair("allof-base")
    assert expected == set() and diff(old, new).changes == ()
    # And each variant still pairs with its own: a change in one is seen in that one only.
    document = copy.deepcopy(dict(new.document))
    document["components"]["schemas"]["Pan"]["allOf"][1]["properties"]["pan"] = {"type": "integer"}
    (change,) = diff(old, Contract.from_dict(document)).changes
    assert (change.rule.id, change.field, change.variants) == ("CD010", "/pan", ("PAN",))
