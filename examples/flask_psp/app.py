"""A minimal third-party PSP card-callback endpoint in Flask, written from the published document alone."""

# This is what a PSP team might write with nothing but openapi/card-callback.yaml in hand: it does
# not import card-callback. It validates callbacks against the document's schemas with jsonschema,
# verifies the HMAC signature itself when CARD_CALLBACK_HMAC_SECRET is set, answers an identical
# callback with the identical answer and a different one under an answered attempt id with 409, except
# the second callback after a soft decline, and never answers 5xx to a callback it can judge.

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from flask import Flask, Response, request
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.validators import extend
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

SPEC = Path(os.environ.get("CARD_CALLBACK_SPEC", Path(__file__).resolve().parents[2] / "openapi/card-callback.yaml"))
CALLBACK_PATH = os.environ.get("PSP_CALLBACK_PATH", "/vipps/card-callback")
MAX_BODY_BYTES = 64 * 1024
SECRET = os.environ.get("CARD_CALLBACK_HMAC_SECRET") or None  # unset or empty: signatures are not checked
MAX_CLOCK_SKEW_SECONDS = 300  # none is published; the Standard Webhooks convention
AUTH_PREFIX = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # OpenAPI patterns are ECMA-262, where `$` is the end of the string; Python's `$` also matches before a
    # final newline, so "123456\n" would pass `^[0-9]{4,6}$`. (The document's patterns escape no `$`.)
    if isinstance(instance, str) and not re.search(pattern.replace("$", r"\Z"), instance):
        yield ValidationError(f"does not match {pattern!r}")


OpenApiValidator = extend(Draft4Validator, {"pattern": _ecma_pattern})


def _request_validator(spec: Path) -> Any:
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    operation = next(
        op for item in document["paths"].values() for op in item.values() if "x-response-deadline-seconds" in op
    )
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    # OpenAPI 3.0 schema objects are (close to) JSON Schema draft 4; `#/components/...` refs need the root.
    return OpenApiValidator({**schema, "components": document["components"]}, format_checker=FormatChecker())


VALIDATOR = _request_validator(SPEC)
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
# Per authorizationAttemptId: the hash of each callback answered and its answer (a real PSP keeps this in
# its database), and the 3-D Secure sessions this PSP hosts after a soft decline.
_answers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
_three_ds: dict[str, dict[str, Any]] = {}
_answers_lock = threading.Lock()


def problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


@app.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    # Flask's default error pages are HTML; the contract documents problem+json.
    return problem(exc.code or 400, exc.name, exc.description or exc.name)


@app.errorhandler(Exception)
def unexpected(exc: Exception) -> Response:
    # 500 is final for the paying user; log the type only (card data may be in the message).
    app.logger.error("unexpected %s", type(exc).__name__)
    return problem(500, "Internal Server Error", "unexpected error")


def signature_problem(secret: str, raw_body: bytes, now: datetime | None = None) -> str | None:
    """Why the request's HMAC signature is not acceptable, or None when it is (`now`: the clock, for tests)."""
    date = request.headers.get("X-Ms-Date", "")
    claimed_hash = request.headers.get("X-Ms-Content-Sha256", "")
    authorization = request.headers.get("Authorization", "")
    if not (date and claimed_hash and authorization):
        return "the Authorization, X-Ms-Date and X-Ms-Content-Sha256 headers are required"
    if not authorization.startswith(AUTH_PREFIX):
        return "Authorization must be 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=...'"
    try:
        signed_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "X-Ms-Date is not an HTTP date"
    now = now or datetime.now(UTC)
    if signed_at.tzinfo is None or abs((now - signed_at).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
        return "X-Ms-Date is too far from the server's clock"
    # The raw bytes received, never a re-serialized body: any whitespace, key order or escaping is signed as sent.
    body_hash = base64.b64encode(hashlib.sha256(raw_body).digest()).decode()
    if not hmac.compare_digest(claimed_hash.encode("utf-8", "replace"), body_hash.encode()):
        return "X-Ms-Content-Sha256 does not match the body"
    # WSGI percent-decodes PATH_INFO; the signature covers the target as sent, which the server keeps.
    target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not target:
        query = request.environ.get("QUERY_STRING", "")
        target = quote(request.environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
    message = f"POST\n{target}\n{date};{request.headers.get('Host', '')};{body_hash}"
    expected = base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(authorization[len(AUTH_PREFIX) :].encode("utf-8", "replace"), expected.encode()):
        return "the signature does not match"
    return None


def decide(callback: dict[str, Any]) -> dict[str, Any]:
    """This PSP's business logic, standing in for a real authorization with the card network."""
    if callback["maskedCardNumber"].endswith("0051"):
        return {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}
    if callback["maskedCardNumber"].endswith("3000"):  # the issuer asks for 3-D Secure
        attempt = callback["authorizationAttemptId"]
        _three_ds[attempt] = {"done": callback["softDeclineCompletedRedirectUrl"], "approved": False}
        return {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": f"{request.host_url}3ds/{quote(attempt, safe='')}"}
    return {"status": "RESERVE", "networkTransactionReference": secrets.token_hex(8)}


def answer_for(callback: dict[str, Any], body_hash: str) -> dict[str, Any] | None:
    """The answer to this callback, or None for a conflict (a different callback under an answered attempt id)."""
    attempt = callback["authorizationAttemptId"]
    answered = _answers.setdefault(attempt, [])
    for seen_hash, answer in answered:
        if seen_hash == body_hash:  # the identical callback again: the identical answer
            return answer
    if not answered:
        answer = decide(callback)
    elif len(answered) == 1 and answered[0][1]["status"] == "SOFT_DECLINE":
        # The second callback after 3-D Secure: the same attempt, a fresh cryptogram.
        session = _three_ds.pop(attempt, {})
        answer = {"status": "RESERVE", "networkTransactionReference": secrets.token_hex(8)} if session.get(
            "approved") else {"status": "FAIL", "errorCode": "3DS_FAILED", "errorMessage": "3-D Secure not completed"}
    else:
        return None
    answered.append((body_hash, answer))
    return answer


@app.get("/3ds/<attempt>")
def three_d_secure(attempt: str) -> Response:
    """This PSP's stand-in for a 3-D Secure page: approves, then sends the browser back to Vipps MobilePay."""
    with _answers_lock:
        session = _three_ds.get(attempt)
        if session is None:
            return problem(404, "Not Found", "no 3-D Secure session for this attempt")
        session["approved"] = True
    return Response(status=303, headers={"Location": session["done"]})


@app.post(CALLBACK_PATH)
def card_callback() -> Response:
    raw = request.get_data(cache=True)
    if SECRET:
        reason = signature_problem(SECRET, raw)
        if reason:
            return problem(401, "Unauthorized", reason)
    if request.mimetype != "application/json":
        return problem(415, "Unsupported Media Type", "the body must be application/json")
    try:
        callback = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return problem(400, "Bad Request", "the body is not a JSON document")
    errors = sorted(VALIDATOR.iter_errors(callback), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        # The path and the failing keyword, never the value: it may be card data.
        where = "/".join(map(str, errors[0].absolute_path)) or "(body)"
        return problem(400, "Bad Request", f"{where} is not valid ({errors[0].validator})")
    with _answers_lock:
        # Vipps MobilePay sends a new authorizationAttemptId for every attempt (a user's retry too); only the
        # second callback after a soft decline reuses one.
        answer = answer_for(callback, hashlib.sha256(raw).hexdigest())
    if answer is None:
        return problem(409, "Conflict", "this authorizationAttemptId was already answered for a different callback")
    app.logger.info("callback %s answered %s", callback["authorizationAttemptId"], answer["status"])
    return Response(json.dumps(answer), status=200, mimetype="application/json")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def main() -> None:
    """Serve on HOST:PORT (default 127.0.0.1:8081; PORT=0 picks a free port) and say where."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8081")), app, threaded=True)
    print(f"listening on http://{server.host}:{server.server_port}{CALLBACK_PATH}", flush=True)
    signing = "required" if SECRET else "not checked (CARD_CALLBACK_HMAC_SECRET is unset)"
    print(f"HMAC signatures: {signing}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
