"""The HMAC scheme reproduces the published test vector and verifies with precise reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callback_core.errors import SecretError, SignatureError
from callback_core.secrets import SECRET_ENV, load_secret
from callback_core.signing import http_date, sign, verify

VECTOR_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
VECTOR_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
VECTOR_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
VECTOR_NOW = datetime(2023, 3, 30, 8, 38, 32, tzinfo=UTC)


def _signed() -> dict[str, str]:
    headers = sign(
        VECTOR_SECRET,
        method="POST",
        path_and_query="/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63",
        host="webhook.site",
        body=VECTOR_BODY,
        date=VECTOR_DATE,
    )
    return {**{k.lower(): v for k, v in headers.as_dict().items()}, "host": "webhook.site"}


def test_published_test_vector() -> None:
    headers = _signed()
    assert headers["x-ms-content-sha256"] == "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    assert headers["authorization"] == (
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        "&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
    )


def _verify(headers: dict[str, str], body: bytes = VECTOR_BODY, secret: str = VECTOR_SECRET,
            now: datetime = VECTOR_NOW, path: str = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63") -> None:
    verify(secret, method="POST", path_and_query=path, headers=headers, body=body, now=now, max_skew_seconds=300)


def test_valid_signature_verifies() -> None:
    _verify(_signed())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h.pop("authorization"), "authorization header is missing"),
        (lambda h: h.pop("x-ms-date"), "x-ms-date header is missing"),
        (lambda h: h.pop("x-ms-content-sha256"), "x-ms-content-sha256 header is missing"),
        (lambda h: h.update(authorization="Bearer abc"), "Authorization must be"),
        (lambda h: h.update({"x-ms-date": "yesterday"}), "not an HTTP date"),
        (lambda h: h.update(host="other.example"), "signature does not match"),
    ],
)
def test_each_broken_header_has_its_reason(change: object, reason: str) -> None:
    headers = _signed()
    change(headers)  # type: ignore[operator]
    with pytest.raises(SignatureError, match=reason):
        _verify(headers)


def test_body_changed_after_signing() -> None:
    with pytest.raises(SignatureError, match="does not match the body"):
        _verify(_signed(), body=VECTOR_BODY + b" ")


def test_wrong_secret() -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        _verify(_signed(), secret="another-secret")


def test_other_path_or_query() -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        _verify(_signed(), path="/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63?x=1")


def test_stale_date_is_refused_and_skew_inside_the_window_is_not() -> None:
    _verify(_signed(), now=VECTOR_NOW + timedelta(seconds=299))
    with pytest.raises(SignatureError, match="away from the server's clock"):
        _verify(_signed(), now=VECTOR_NOW + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="away from the server's clock"):
        _verify(_signed(), now=VECTOR_NOW - timedelta(minutes=6))


def test_http_date_format() -> None:
    assert http_date(VECTOR_NOW) == VECTOR_DATE


def test_secret_sources(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    assert load_secret({}) is None
    assert load_secret({SECRET_ENV: ""}) is None
    assert load_secret({SECRET_ENV: "s3cret"}) == "s3cret"
    secret_file = folder / "secret"
    secret_file.write_text("from-file\n", encoding="utf-8")
    assert load_secret({SECRET_ENV: "env"}, secret_file) == "from-file"
    (folder / "empty").write_text("", encoding="utf-8")
    with pytest.raises(SecretError, match="is empty"):
        load_secret({}, folder / "empty")
    with pytest.raises(SecretError, match="cannot read"):
        load_secret({}, folder / "missing")
