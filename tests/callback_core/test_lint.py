"""The linter: each rule has an id and a level, fires on its own defect and names its place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from callback_core.lint import Finding, Level, Needs, lint, lint_report
from callback_core.lint_rules import rules

OP = "#/paths/~1psp-makepayment/post"
RULES = {rule.id: rule for rule, _ in rules()}


def _op(document: dict[str, Any]) -> dict[str, Any]:
    return document["paths"]["/psp-makepayment"]["post"]  # type: ignore[no-any-return]


def _media(document: dict[str, Any], where: str) -> dict[str, Any]:
    op = _op(document)
    holder = op["requestBody"] if where == "request" else op["responses"]["200"]
    return holder["content"]["application/json"]  # type: ignore[no-any-return]


def _found(document: dict[str, Any], level: Level | None = None) -> set[tuple[str, str, str]]:
    return {(f.rule.id, f.pointer, f.message) for f in lint(document) if level is None or f.level is level}


def _errors(document: dict[str, Any]) -> list[Finding]:
    return [f for f in lint(document) if f.level is Level.ERROR]


def test_bundled_document_has_no_error(document: dict[str, Any]) -> None:
    assert _errors(document) == []
    assert lint_report(document).usable


def test_dangling_ref_on_request_body_media_type(document: dict[str, Any]) -> None:
    _media(document, "request")["schema"] = {"$ref": "#/components/schemas/DoesNotExist"}
    assert _found(document, Level.ERROR) == {(
        "CL001", f"{OP}/requestBody/content/application~1json/schema/$ref",
        "$ref '#/components/schemas/DoesNotExist' does not resolve",
    )}
    assert not lint_report(document).usable  # no command can read the callback's body


def test_dangling_ref_nothing_uses_leaves_the_document_usable(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["Unused"] = {"$ref": "#/components/schemas/Gone"}
    assert {f.rule.id for f in _errors(document)} == {"CL001"}
    assert lint_report(document).usable


def test_example_that_breaks_its_schema(document: dict[str, Any]) -> None:
    _media(document, "request")["examples"]["tokenCallback"]["value"]["merchantSerialNumber"] = "12"
    (finding,) = _errors(document)
    assert finding.rule.id == "CL005"
    assert finding.pointer == f"{OP}/requestBody/content/application~1json/examples/tokenCallback/value"
    assert "merchantSerialNumber" in finding.message


def test_response_example_that_breaks_its_schema(document: dict[str, Any]) -> None:
    del _media(document, "response")["examples"]["softDecline"]["value"]["softDeclineRedirectUrl"]
    (finding,) = _errors(document)
    assert finding.rule.id == "CL005" and "examples/softDecline/value" in finding.pointer


def test_a_missing_description_is_a_warning_not_an_error(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["NetworkToken"]["properties"]["eci"]["description"]
    assert _errors(document) == []
    assert ("CL012", "#/components/schemas/NetworkToken/properties/eci", "property has no description") in _found(
        document, Level.WARNING)


def test_openapi_31_is_refused(document: dict[str, Any]) -> None:
    document["openapi"] = "3.1.0"
    (finding,) = _errors(document)
    assert finding.rule.id == "CL002" and finding.message.startswith("must be OpenAPI 3.0.x")


def test_invalid_openapi_is_reported_with_its_place(document: dict[str, Any]) -> None:
    _op(document)["responses"]["200"]["descriptionn"] = "typo"
    del _op(document)["responses"]["200"]["description"]
    errors = _errors(document)
    assert errors and all(f.rule.id == "CL003" and f.pointer.startswith(f"{OP}/responses/200") for f in errors)


def test_malformed_deadline_makes_the_document_unusable(document: dict[str, Any]) -> None:
    _op(document)["x-response-deadline-seconds"] = "soon"
    report = lint_report(document)
    assert [(f.rule.id, f.pointer, f.message) for f in report.findings] == [(
        "CL004", f"{OP}/x-response-deadline-seconds",
        "x-response-deadline-seconds must be a positive number, not 'soon'",
    )]
    assert not report.usable and "x-response-deadline-seconds" in report.unusable_reason


def test_an_unusable_document_still_gets_the_findings_that_need_no_contract(document: dict[str, Any]) -> None:
    _op(document)["x-response-deadline-seconds"] = "soon"
    _media(document, "request")["examples"]["tokenCallback"]["value"]["merchantSerialNumber"] = "12"
    del document["components"]["schemas"]["NetworkToken"]["properties"]["eci"]["description"]
    assert [f.rule.id for f in lint(document)] == ["CL004", "CL005", "CL012"]


def test_no_json_post_operation_is_unusable(document: dict[str, Any]) -> None:
    _op(document)["requestBody"]["content"] = {"application/xml": _media(document, "request")}
    report = lint_report(document)
    assert not report.usable
    assert [f.rule.id for f in report.findings if f.level is Level.ERROR] == ["CL004"]
    assert "application/json" in report.unusable_reason


def test_fail_example_code_must_be_in_the_catalogue(document: dict[str, Any]) -> None:
    _media(document, "response")["examples"]["fail"]["value"]["errorCode"] = "999"
    assert _found(document, Level.ERROR) == {(
        "CL009", f"{OP}/responses/200/content/application~1json/examples/fail",
        "error code '999' is not in x-error-codes",
    )}


def test_a_code_of_the_other_type_is_not_listed(document: dict[str, Any]) -> None:
    # 51 and "51" are different answers: a PSP answering the integer is refused by a string schema.
    _media(document, "response")["examples"]["fail"]["value"]["errorCode"] = 51
    assert {f.rule.id for f in _errors(document)} == {"CL005", "CL009"}


def test_catalogue_codes_must_have_the_answer_fields_type(document: dict[str, Any]) -> None:
    failure = document["components"]["schemas"]["FailResponse"]["properties"]["errorCode"]
    failure.update(type="integer", example=51)
    failure.pop("minLength", None)
    report = lint_report(document)
    (typed,) = [f for f in report.findings if f.rule.id == "CL008"]
    assert typed.pointer == f"{OP}/x-error-codes/codes/0/code"
    assert '"05" is a string' in typed.message and "integer" in typed.message
    # No command can use it (an answer with such a code fails the schema): one finding, not also CL004.
    assert not report.usable and "CL004" not in {f.rule.id for f in report.findings}


def test_duplicate_catalogue_code(document: dict[str, Any]) -> None:
    codes = _op(document)["x-error-codes"]["codes"]
    codes.append(dict(codes[0]))
    assert _found(document, Level.ERROR) == {
        ("CL007", f"{OP}/x-error-codes/codes", f"error code {codes[0]['code']!r} is listed more than once")}


def test_missing_hmac_header_slot(document: dict[str, Any]) -> None:
    _op(document)["parameters"] = [p for p in _op(document)["parameters"] if p["name"] != "X-Ms-Date"]
    assert _found(document, Level.ERROR) == {
        ("CL010", f"{OP}/parameters", "the HMAC header slot 'X-Ms-Date' is not a declared header parameter")}


def test_declared_role_that_names_no_property(document: dict[str, Any]) -> None:
    roles = _op(document)["x-field-roles"]
    roles["request"]["maskedCardNumber"] = "/cardInfo/maskedCardNumber"  # the revision's place, not this one's
    roles["response"]["errorCode"] = "/error/code"
    assert _found(document, Level.ERROR) == {
        ("CL006", f"{OP}/x-field-roles/request/maskedCardNumber",
         "role 'maskedCardNumber' points at '/cardInfo/maskedCardNumber', which names no property of the request "
         "schema"),
        ("CL006", f"{OP}/x-field-roles/response/errorCode",
         "role 'errorCode' points at '/error/code', which names no property of the response schema"),
    }


def test_undeclared_roles_are_inferred_and_said_as_info(document: dict[str, Any]) -> None:
    assert _found(document, Level.INFO) == set()  # the bundled document declares every role it has
    del _op(document)["x-field-roles"]["request"]["cardDataType"]
    assert _errors(document) == []
    assert _found(document, Level.INFO) == {(
        "CL014", f"{OP}/x-field-roles/request",
        "role 'cardDataType' is not declared; inferred from its name at /paymentInstrument",
    )}


HTTPS_ONLY = r"^(https://|http://(localhost|127\.0\.0\.1)(:[0-9]+)?/)"


def _url_fields(document: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = document["components"]["schemas"]
    return [schemas["SoftDeclineCompletedRedirectUrl"], schemas["SoftDeclineResponse"]["properties"][
        "softDeclineRedirectUrl"]]


def test_a_url_field_without_a_scheme_rule_is_a_warning(document: dict[str, Any]) -> None:
    for url in _url_fields(document):
        url.pop("pattern", None)
    warned = {f.message.split(" of the ")[0] for f in lint(document) if f.rule.id == "CL013"}
    assert warned == {"URL field /softDeclineCompletedRedirectUrl", "URL field /softDeclineRedirectUrl"}
    assert RULES["CL013"].level is Level.WARNING
    for url in _url_fields(document):
        url["pattern"] = HTTPS_ONLY
    assert [f for f in lint(document) if f.rule.id == "CL013"] == []


@pytest.mark.parametrize(("pattern", "said"), [
    ("https", "still admits 'javascript://https.example.com/%0Aalert(1)'"),  # unanchored: a mention passes
    ("^https?://", "still admits 'http://example.com/3ds'"),
    ("^[a-z]+:", "still admits 'javascript:alert(document.domain)'"),
    ("^https://psp\\.example\\.com/", "refuses 'https://example.com/3ds'"),
])
def test_a_pattern_that_is_no_https_rule_is_said_so(pattern: str, said: str, document: dict[str, Any]) -> None:
    url = _url_fields(document)[1]
    url["pattern"] = pattern
    _media(document, "response")["examples"]["softDecline"]["value"]["softDeclineRedirectUrl"] = (
        "https://psp.example.com/3ds/session/1")
    messages = [f.message for f in lint(document) if f.rule.id == "CL013" and "/softDeclineRedirectUrl" in f.message]
    assert len(messages) == 1 and said in messages[0], messages


def test_a_redirect_role_is_a_url_whatever_its_format(document: dict[str, Any]) -> None:
    for url in _url_fields(document):
        url["pattern"] = HTTPS_ONLY
    del _url_fields(document)[1]["format"]
    del _url_fields(document)[1]["pattern"]
    assert [f.message.split(" of the ")[0] for f in lint(document) if f.rule.id == "CL013"] == [
        "URL field /softDeclineRedirectUrl"]


# Each rule, the smallest edit of the bundled document that makes it fire.
EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "CL001": lambda d: _media(d, "request").update(schema={"$ref": "#/components/schemas/Gone"}),
    "CL002": lambda d: d.update(openapi="3.1.0"),
    "CL003": lambda d: d.pop("info"),
    "CL004": lambda d: _op(d).update({"x-response-deadline-seconds": 0}),
    "CL005": lambda d: _media(d, "response")["examples"]["reserve"]["value"].update(status="MAYBE"),
    "CL006": lambda d: _op(d)["x-field-roles"]["request"].update(attemptId="/nowhere"),
    "CL007": lambda d: _op(d)["x-error-codes"].update(codes=[]),
    "CL008": lambda d: d["components"]["schemas"]["FailResponse"]["properties"].update(
        errorCode={"type": "integer", "description": "A code."}),
    "CL009": lambda d: _media(d, "response")["examples"]["fail"]["value"].update(errorCode="999"),
    "CL010": lambda d: _op(d)["x-hmac-signing"].update(maxClockSkewSeconds=0),
    "CL011": lambda d: _op(d).update({"x-card-callback-auth-header": {"header": "X-Undeclared"}}),
    "CL012": lambda d: d["components"]["schemas"]["NetworkToken"]["properties"]["eci"].pop("description"),
    "CL013": lambda d: _url_fields(d)[1].pop("pattern"),
    "CL014": lambda d: _op(d).pop("x-field-roles"),
    "CL016": lambda d: (_op(d)["x-field-roles"]["response"].pop("errorMessage"),
                        d["components"]["schemas"]["FailResponse"]["properties"].update(
                            reason=d["components"]["schemas"]["FailResponse"]["properties"].pop("errorMessage"))),
}


def test_a_role_name_no_tool_knows_is_an_error(document: dict[str, Any]) -> None:
    _op(document)["x-field-roles"]["request"]["attemptID"] = "/authorizationAttemptId"  # a typo of attemptId
    found = [f for f in lint(document) if f.rule.id == "CL006"]
    assert len(found) == 1 and "'attemptID' is not a request role the tools know" in found[0].message


@pytest.mark.parametrize("rule_id", sorted(EDITS))
def test_each_rule_fires_on_its_own_edit(rule_id: str, document: dict[str, Any]) -> None:
    for url in _url_fields(document):
        url["pattern"] = HTTPS_ONLY
    assert lint(document) == []  # the bundled document with https-only URLs is clean at every level
    EDITS[rule_id](document)
    fired = {f.rule.id for f in lint(document)}
    assert rule_id in fired, fired
    assert {RULES[i].level for i in fired} >= {RULES[rule_id].level}


def test_every_rule_has_a_unique_stable_id_and_an_edit() -> None:
    ids = list(RULES)
    assert ids == [f"CL{n:03d}" for n in range(1, len(ids) + 1)]
    # Payload files are not part of the document: tests/callback_core/test_lint_payloads.py lints them.
    assert set(EDITS) | {r.id for r in RULES.values() if r.needs is Needs.PAYLOADS} == set(ids)


def test_the_review_guide_lists_every_lint_rule(document: dict[str, Any]) -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "spec-review.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.title} | {rule.level.value} |" in guide, rule.id
