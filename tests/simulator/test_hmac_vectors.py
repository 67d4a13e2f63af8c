"""HMAC test vectors: `sign --vectors` rewrites the shipped copy byte for byte, and three verifiers written apart
(one of about 20 lines from the document's x-hmac-signing, the reference server's, the Flask example's) agree
with every expected verdict."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import importlib.util
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from simulator_helpers import run_cli

from callback_core.errors import SignatureError
from callback_core.signing import verify
from callback_core.spec import Contract, bundled_spec_path
from reference_server.connexion_app import ROUTING_CONTEXT
from reference_server.errors import Unauthorized
from reference_server.middleware import CallbackGuard
from simulator.vectors import PUBLISHED_BODY, PUBLISHED_DATE, PUBLISHED_SECRET, PUBLISHED_URL, generate_vectors

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "examples" / "hmac-vectors.json"
VECTORS: list[dict[str, Any]] = generate_vectors(Contract.from_file().hmac)["vectors"]


def _x_hmac_signing() -> dict[str, Any]:
    document = yaml.safe_load(bundled_spec_path().read_text(encoding="utf-8"))
    return next(op["x-hmac-signing"] for item in document["paths"].values() for op in item.values()
                if isinstance(op, dict) and "x-hmac-signing" in op)


def independent_verify(vector: dict[str, Any], scheme: dict[str, Any]) -> bool:
    """The scheme as x-hmac-signing describes it, and nothing else (no code of the toolkit)."""
    request, names = vector["request"], scheme["headers"]
    headers = {name.lower(): value for name, value in request["headers"].items()}
    date, claimed, auth = (headers.get(names[key].lower()) for key in ("date", "contentSha256", "authorization"))
    prefix = f"{scheme['algorithm']} SignedHeaders={';'.join(scheme['signedHeaders'])}&Signature="
    if not (date and claimed and auth and "host" in headers and auth.startswith(prefix)):
        return False
    try:
        skew = (parsedate_to_datetime(vector["now"]) - parsedate_to_datetime(date)).total_seconds()
    except (TypeError, ValueError):
        return False
    body = base64.b64decode(request["bodyBase64"])
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if abs(skew) > scheme["maxClockSkewSeconds"] or not hmac.compare_digest(digest, claimed):
        return False
    url = urlsplit(request["url"])  # keeps percent-escapes as written
    values = {names["date"].lower(): date, "host": headers["host"], names["contentSha256"].lower(): digest}
    message = f"{request['method']}\n{url.path}{'?' + url.query if url.query else ''}\n" + ";".join(
        values[name] for name in scheme["signedHeaders"])
    expected = hmac.new(vector["secret"].encode(), message.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(auth[len(prefix):], base64.b64encode(expected).decode())


def _target(vector: dict[str, Any]) -> str:
    url = urlsplit(vector["request"]["url"])
    return url.path + (f"?{url.query}" if url.query else "")


def _body(vector: dict[str, Any]) -> bytes:
    return base64.b64decode(vector["request"]["bodyBase64"])


def test_sign_vectors_rewrites_the_shipped_copy_byte_for_byte(tmp_path: Path) -> None:
    written = tmp_path / "vectors.json"
    result = run_cli("sign", "--vectors", str(written))
    assert result.exit_code == 0, result.output
    assert f"wrote {len(VECTORS)} HMAC test vectors" in result.stdout
    assert written.read_bytes() == SHIPPED.read_bytes()


def test_vectors_refuse_signing_options(tmp_path: Path) -> None:
    result = run_cli("sign", "--vectors", str(tmp_path / "v.json"), "--url", "https://psp.example/cb")
    assert result.exit_code == 2
    assert "drop --url" in result.output
    assert not (tmp_path / "v.json").exists()


def test_the_file_has_the_cases_the_format_promises() -> None:
    verdicts = Counter(v["expect"] for v in VECTORS)
    assert len(VECTORS) >= 20 and verdicts["invalid"] * 2 >= len(VECTORS) and verdicts["valid"] >= 5
    assert len({v["name"] for v in VECTORS}) == len(VECTORS)
    for vector in VECTORS:
        assert set(vector) == {"name", "expect", "reason", "secret", "now", "request"}
        assert set(vector["request"]) == {"method", "url", "headers", "bodyBase64"}
        assert parsedate_to_datetime(vector["now"]).tzinfo is not None
    [published] = [v for v in VECTORS if v["request"]["url"] == PUBLISHED_URL]
    assert published["expect"] == "valid" and published["secret"] == PUBLISHED_SECRET
    assert _body(published) == PUBLISHED_BODY and published["request"]["headers"]["X-Ms-Date"] == PUBLISHED_DATE
    assert published["request"]["headers"]["Authorization"].endswith("agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=")
    lower = next(v for v in VECTORS if "lower-case" in v["name"])
    assert all(name == name.lower() for name in lower["request"]["headers"])
    assert any(not _body(v).isascii() and v["expect"] == "valid" for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_an_independent_verifier_agrees(vector: dict[str, Any]) -> None:
    assert independent_verify(vector, _x_hmac_signing()) is (vector["expect"] == "valid"), vector["reason"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_the_core_verifier_agrees(vector: dict[str, Any]) -> None:
    try:
        verify(vector["secret"], method="POST", path_and_query=_target(vector), headers=vector["request"]["headers"],
               body=_body(vector), now=parsedate_to_datetime(vector["now"]), max_skew_seconds=300)
    except SignatureError:
        valid = False
    else:
        valid = True
    assert valid is (vector["expect"] == "valid"), vector["reason"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_the_reference_servers_guard_agrees(vector: dict[str, Any]) -> None:
    """Through the reference server's own middleware, with the request as an ASGI server hands it over."""
    reached: list[bool] = []

    async def behind(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    now = parsedate_to_datetime(vector["now"])
    guard = CallbackGuard(behind, operation_id="cardCallback", max_body_bytes=64 * 1024, secret=vector["secret"],
                          scheme=Contract.from_file().hmac, now=lambda: now)
    url = urlsplit(vector["request"]["url"])
    body = _body(vector)
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in vector["request"]["headers"].items()]
    scope = {"type": "http", "method": "POST", "path": url.path, "raw_path": url.path.encode("ascii"),
             "query_string": url.query.encode("ascii"), "headers": [*headers, (b"content-length", b"%d" % len(body))],
             "extensions": {ROUTING_CONTEXT: {"operation_id": "cardCallback"}}}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        pass

    try:
        asyncio.run(guard(scope, receive, send))
    except Unauthorized:
        assert vector["expect"] == "invalid", vector["reason"]
    else:
        assert vector["expect"] == "valid" and reached, vector["reason"]


def _flask_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flask_psp_example", ROOT / "examples" / "flask_psp" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLASK = _flask_example()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_the_flask_examples_verifier_agrees(vector: dict[str, Any]) -> None:
    request = vector["request"]
    url = urlsplit(request["url"])
    headers = dict(request["headers"])
    host = next(v for k, v in headers.items() if k.lower() == "host")
    with FLASK.app.test_request_context(url.path, method="POST", base_url=f"{url.scheme}://{host}",
                                        query_string=url.query, headers=headers, data=_body(vector),
                                        environ_overrides={"RAW_URI": _target(vector)}):
        problem = FLASK.signature_problem(vector["secret"], _body(vector), now=parsedate_to_datetime(vector["now"]))
    assert (problem is None) is (vector["expect"] == "valid"), (vector["reason"], problem)


def test_the_independent_verifier_can_fail() -> None:
    # A vector marked valid, changed by one byte, is refused: the agreement above is not vacuous.
    vector = next(v for v in VECTORS if v["expect"] == "valid")
    changed = {**vector, "secret": vector["secret"][:-1] + "x"}
    assert independent_verify(vector, _x_hmac_signing())
    assert not independent_verify(changed, _x_hmac_signing())



