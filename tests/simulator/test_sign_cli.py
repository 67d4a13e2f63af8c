"""`card-callback sign`: the published test vector, ports, raw percent-escapes, UTF-8 bodies, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from simulator_helpers import run_cli

from callback_core.signing import verify
from callback_core.spec import Contract, HmacScheme, bundled_spec_path, read_document

VECTOR_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
VECTOR_URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
VECTOR_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
VECTOR_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
ENV = {"CARD_CALLBACK_HMAC_SECRET": VECTOR_SECRET}


def _sign(tmp_path: Path, url: str, body: bytes, *extra: str, env: dict[str, str] | None = ENV,
          names: list[str] | None = None) -> dict[str, str]:
    path = tmp_path / "body.json"
    path.write_bytes(body)
    result = run_cli("sign", "--url", url, "--body-file", str(path), "--date", VECTOR_DATE, *extra, env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    expected = names or ["X-Ms-Date", "X-Ms-Content-Sha256", "Authorization"]
    assert [line.split(": ", 1)[0] for line in lines] == expected
    return dict(line.split(": ", 1) for line in lines)


def _verifies(headers: dict[str, str], *, host: str, path_and_query: str, body: bytes,
              scheme: HmacScheme | None = None) -> bool:
    try:
        verify(
            VECTOR_SECRET,
            method="POST",
            path_and_query=path_and_query,
            headers={**{k.lower(): v for k, v in headers.items()}, "host": host},
            body=body,
            now=datetime(2023, 3, 30, 8, 38, 32, tzinfo=UTC),
            max_skew_seconds=300,
            **({} if scheme is None else {"scheme": scheme}),
        )
    except Exception:
        return False
    return True


def test_published_test_vector(tmp_path: Path) -> None:
    headers = _sign(tmp_path, VECTOR_URL, VECTOR_BODY)
    assert headers == {
        "X-Ms-Date": VECTOR_DATE,
        "X-Ms-Content-Sha256": "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=",
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        "&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=",
    }


def test_secret_from_a_file_gives_the_same_signature(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(VECTOR_SECRET + "\n", encoding="utf-8")
    from_file = _sign(tmp_path, VECTOR_URL, VECTOR_BODY, "--hmac-secret-file", str(secret), env=None)
    assert from_file == _sign(tmp_path, VECTOR_URL, VECTOR_BODY)


def test_host_carries_the_port(tmp_path: Path) -> None:
    headers = _sign(tmp_path, "http://127.0.0.1:8080/psp-makepayment", VECTOR_BODY)
    assert _verifies(headers, host="127.0.0.1:8080", path_and_query="/psp-makepayment", body=VECTOR_BODY)
    assert not _verifies(headers, host="127.0.0.1", path_and_query="/psp-makepayment", body=VECTOR_BODY)
    # A default port is not sent in Host, so it is not signed either.
    default = _sign(tmp_path, "https://psp.example:443/cb", VECTOR_BODY)
    assert _verifies(default, host="psp.example", path_and_query="/cb", body=VECTOR_BODY)


def test_percent_escapes_are_signed_raw(tmp_path: Path) -> None:
    url = "https://psp.example/cb%2Fv1?ref=a%2Fb&name=bl%C3%A5"
    headers = _sign(tmp_path, url, VECTOR_BODY)
    raw = "/cb%2Fv1?ref=a%2Fb&name=bl%C3%A5"
    assert _verifies(headers, host="psp.example", path_and_query=raw, body=VECTOR_BODY)
    assert not _verifies(headers, host="psp.example", path_and_query="/cb/v1?ref=a/b&name=blå", body=VECTOR_BODY)


def test_utf8_body_is_signed_as_the_file_bytes(tmp_path: Path) -> None:
    body = '{"errorMessage": "Kortet er sperret – prøv igjen"}\n'.encode()
    headers = _sign(tmp_path, VECTOR_URL, body)
    path = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
    assert _verifies(headers, host="webhook.site", path_and_query=path, body=body)
    assert not _verifies(headers, host="webhook.site", path_and_query=path, body=body.rstrip(b"\n"))


def test_method_is_part_of_the_signature(tmp_path: Path) -> None:
    assert _sign(tmp_path, VECTOR_URL, VECTOR_BODY, "--method", "PUT") != _sign(tmp_path, VECTOR_URL, VECTOR_BODY)


def test_date_defaults_to_now(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(VECTOR_BODY)
    result = run_cli("sign", "--url", VECTOR_URL, "--body-file", str(tmp_path / "b"), env=ENV)
    assert result.exit_code == 0
    date = result.stdout.splitlines()[0].removeprefix("X-Ms-Date: ")
    assert date.endswith(" GMT") and date != VECTOR_DATE


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "no HMAC secret: set CARD_CALLBACK_HMAC_SECRET or pass --hmac-secret-file"),
        (["--date", "yesterday"], ENV, "--date must be an HTTP date"),
        (["--hmac-secret-file", "/nonexistent"], {}, "HMAC secret: cannot read /nonexistent"),
    ],
)
def test_errors_are_one_line_and_never_show_the_secret(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    (tmp_path / "b").write_bytes(VECTOR_BODY)
    result = run_cli("sign", "--url", VECTOR_URL, "--body-file", str(tmp_path / "b"), *args, env=env)
    assert result.exit_code == 2
    assert message in result.stderr
    assert VECTOR_SECRET not in result.output


def test_spec_signs_with_the_documents_header_names(tmp_path: Path) -> None:
    """A document whose x-hmac-signing renames the headers gets them under its names, and they verify."""
    document = read_document(bundled_spec_path())
    renamed = {"Authorization": "X-Psp-Signature", "X-Ms-Date": "X-Vipps-Date",
               "X-Ms-Content-Sha256": "X-Vipps-Body-Sha256"}
    contract = Contract.from_dict(document)
    operation = document["paths"][contract.path][contract.method.lower()]
    scheme = operation["x-hmac-signing"]
    scheme["headers"] = {key: renamed[name] for key, name in scheme["headers"].items()}
    scheme["signedHeaders"] = [next((new.lower() for old, new in renamed.items() if old.lower() == name), name)
                               for name in scheme["signedHeaders"]]
    for parameter in operation["parameters"]:
        parameter["name"] = renamed.get(parameter["name"], parameter["name"])
    spec = tmp_path / "renamed.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    headers = _sign(tmp_path, VECTOR_URL, VECTOR_BODY, "--spec", str(spec), names=["X-Vipps-Date",
                    "X-Vipps-Body-Sha256", "X-Psp-Signature"])
    assert headers["X-Vipps-Date"] == VECTOR_DATE
    signed = Contract.from_file(spec).hmac
    assert _verifies(headers, host="webhook.site", path_and_query="/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63",
                     body=VECTOR_BODY, scheme=signed)
    # The same request under the bundled names does not verify against the renamed scheme, and vice versa.
    assert not _verifies(_sign(tmp_path, VECTOR_URL, VECTOR_BODY), host="webhook.site",
                         path_and_query="/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63", body=VECTOR_BODY, scheme=signed)


def test_an_unreadable_spec_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(VECTOR_BODY)
    result = run_cli("sign", "--spec", str(tmp_path / "missing.yaml"), "--url", VECTOR_URL, "--body-file",
                     str(tmp_path / "b"), env=ENV)
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'missing.yaml'}: no such file\n"
