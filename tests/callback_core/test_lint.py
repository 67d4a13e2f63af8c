"""The linter names the place of every problem and is quiet on the bundled document."""

from __future__ import annotations

from typing import Any

from callback_core.lint import Problem, format_problem, lint, role_notes

OP = "#/paths/~1psp-makepayment/post"


def _lines(document: dict[str, Any]) -> list[str]:
    return [format_problem(problem) for problem in lint(document)]


def test_bundled_document_is_clean(document: dict[str, Any]) -> None:
    assert _lines(document) == []


def test_dangling_ref_on_request_body_media_type(document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["schema"] = {"$ref": "#/components/schemas/DoesNotExist"}
    assert _lines(document) == [
        f"{OP}/requestBody/content/application~1json/schema/$ref: "
        "$ref '#/components/schemas/DoesNotExist' does not resolve"
    ]


def test_example_that_breaks_its_schema(document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["examples"]["tokenCallback"]["value"]["merchantSerialNumber"] = "12"
    lines = _lines(document)
    assert len(lines) == 1
    assert lines[0].startswith(f"{OP}/requestBody/content/application~1json/examples/tokenCallback/value: ")
    assert "merchantSerialNumber" in lines[0]


def test_response_example_that_breaks_its_schema(document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["content"]["application/json"]
    del media["examples"]["softDecline"]["value"]["softDeclineRedirectUrl"]
    lines = _lines(document)
    assert len(lines) == 1 and "examples/softDecline/value" in lines[0]


def test_property_without_description(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["NetworkToken"]["properties"]["eci"]["description"]
    assert _lines(document) == ["#/components/schemas/NetworkToken/properties/eci: property has no description"]


def test_openapi_31_is_refused(document: dict[str, Any]) -> None:
    document["openapi"] = "3.1.0"
    lines = _lines(document)
    assert len(lines) == 1 and lines[0].startswith("#/openapi: must be OpenAPI 3.0.x")


def test_invalid_openapi_is_reported_with_its_place(document: dict[str, Any]) -> None:
    document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["descriptionn"] = "typo"
    del document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["description"]
    lines = _lines(document)
    assert lines and all(line.startswith(f"{OP}/responses/200") for line in lines), lines


def test_malformed_deadline_extension(document: dict[str, Any]) -> None:
    document["paths"]["/psp-makepayment"]["post"]["x-response-deadline-seconds"] = "soon"
    assert _lines(document) == [
        f"{OP}/x-response-deadline-seconds: x-response-deadline-seconds must be a positive number, not 'soon'"
    ]


def test_malformed_error_code_entry(document: dict[str, Any]) -> None:
    document["paths"]["/psp-makepayment"]["post"]["x-error-codes"]["codes"][1]["retryable"] = "no"
    assert _lines(document) == [
        f"{OP}/x-error-codes/codes/1: needs code (a string or an integer, as errorCode is typed), meaning (string), "
        "retryable (boolean)"
    ]


def test_fail_example_code_must_be_in_the_catalogue(document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["content"]["application/json"]
    media["examples"]["fail"]["value"]["errorCode"] = "999"
    assert _lines(document) == [
        f"{OP}/responses/200/content/application~1json/examples/fail: errorCode '999' is not in x-error-codes"
    ]


def test_missing_hmac_header_slot(document: dict[str, Any]) -> None:
    params = document["paths"]["/psp-makepayment"]["post"]["parameters"]
    document["paths"]["/psp-makepayment"]["post"]["parameters"] = [p for p in params if p["name"] != "X-Ms-Date"]
    assert _lines(document) == [
        f"{OP}/parameters: the HMAC header slot 'X-Ms-Date' is not a declared header parameter"
    ]


def test_declared_role_that_names_no_property(document: dict[str, Any]) -> None:
    roles = document["paths"]["/psp-makepayment"]["post"]["x-field-roles"]
    roles["request"]["maskedCardNumber"] = "/cardInfo/maskedCardNumber"  # the revision's place, not this one's
    roles["response"]["errorCode"] = "/error/code"
    found = {(p.pointer, p.message) for p in lint(document)}
    assert found == {
        ("#/paths/~1psp-makepayment/post/x-field-roles/request/maskedCardNumber",
         "role 'maskedCardNumber' points at '/cardInfo/maskedCardNumber', which names no property of the request "
         "schema"),
        ("#/paths/~1psp-makepayment/post/x-field-roles/response/errorCode",
         "role 'errorCode' points at '/error/code', which names no property of the response schema"),
    }


def test_undeclared_roles_are_inferred_and_said_as_notes_not_problems(document: dict[str, Any]) -> None:
    assert role_notes(document) == []  # the bundled document declares every role it has
    del document["paths"]["/psp-makepayment"]["post"]["x-field-roles"]["request"]["cardDataType"]
    assert lint(document) == []
    assert role_notes(document) == [Problem(
        "#/paths/~1psp-makepayment/post/x-field-roles/request",
        "role 'cardDataType' is not declared; inferred from its name at /paymentInstrument",
    )]
