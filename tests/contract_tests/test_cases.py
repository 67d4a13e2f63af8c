"""Planned requests: valid ones really valid, invalid ones really invalid, the same seed the same cases."""

from __future__ import annotations

import importlib
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callback_core import signing
from callback_core.auth_header import AuthHeader
from callback_core.errors import SignatureError
from callback_core.spec import Contract
from contract_tests.auth import prepare, redacted, target_parts
from contract_tests.cases import FUTURE_COPY, FUTURE_FIELDS, FUTURE_NESTED, Planner
from contract_tests.generation import Generated, generate
from contract_tests.models import Group, GroupKind, Probe, Role, Tamper
from contract_tests.mutations import Leniency, mutations

NOW = datetime(2026, 3, 30, 8, 38, 32, tzinfo=UTC)
SECRET = "s3cret/with+base64=looking"


def plan(contract: Contract, seed: int = 5, *, signed: bool = True, authenticated: bool = True) -> list[Probe]:
    counter = itertools.count()
    generated = generate(contract, seed=seed, max_examples=15, invalid_examples=5)
    return Planner(contract, generated, lambda: f"id-{next(counter)}").plan(signed=signed,
                                                                             authenticated=authenticated)


def test_the_same_seed_gives_the_same_requests(contract: Contract) -> None:
    assert plan(contract, 5) == plan(contract, 5)
    assert plan(contract, 5) != plan(contract, 6)


def test_the_same_seed_gives_the_same_cases_whatever_else_is_loaded(
    contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hypothesis mixes literals of loaded non-library modules into its draws; pytest and the CLI load
    # different modules, and a seed must still reproduce a run in either.
    before = generate(contract, seed=11, max_examples=40, invalid_examples=10)
    literals = ", ".join(repr(f"local-literal-{i}") for i in range(300))
    (tmp_path / "module_with_literals.py").write_text(f"WORDS = [{literals}]\nNUMBERS = {list(range(7, 900, 7))}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("module_with_literals")
    assert generate(contract, seed=11, max_examples=40, invalid_examples=10) == before


def test_valid_requests_are_valid_and_invalid_ones_invalid(contract: Contract) -> None:
    probes = plan(contract)
    valid_roles = (Role.VALID, Role.BASELINE, Role.EXTENDED, Role.REPEAT, Role.TAMPERED, Role.STALE, Role.AT_ONCE,
                   Role.UNAUTHENTICATED, Role.VARIED)
    leniency = Leniency(contract)
    for probe in probes:
        if probe.role is Role.INVALID_SHOULD and probe.content_type != "application/json":
            assert contract.request_errors(json.loads(probe.body)) == [], probe.label
        elif probe.role is Role.INVALID_SHOULD:
            # Breaks only what a lenient PSP may let through: invalid, yet valid to the relaxed schema.
            assert contract.request_errors(json.loads(probe.body)), probe.label
            assert leniency.only_lenient_breaks(json.loads(probe.body)), probe.label
        elif probe.role in valid_roles:
            assert contract.request_errors(json.loads(probe.body)) == [], probe.label
        else:
            try:
                data = json.loads(probe.body)
            except ValueError:
                continue
            assert contract.request_errors(data), probe.label
            assert not leniency.only_lenient_breaks(data), probe.label
    # Second callbacks and retries are planned from answers, during the run (test_flows.py).
    assert {p.role for p in probes} == set(Role) - {Role.SECOND_CALLBACK, Role.RETRY}
    lenient = {p.label for p in probes if p.role is Role.INVALID_SHOULD}
    assert "tokenCallback with networkToken.eci: does not match ^[0-9]{1,2}$" in lenient
    assert "tokenCallback with pspReference: shorter than minLength 1" in lenient
    strict = {p.label for p in probes if p.role is Role.INVALID}
    assert "tokenCallback with merchantSerialNumber: does not match ^[0-9]{4,6}$" in strict
    assert "tokenCallback with networkToken.expiryMonth: does not match ^(0[1-9]|1[0-2])$" in strict


def test_breaks_inside_optional_fields_are_should_level(contract: Contract) -> None:
    leniency = Leniency(contract)
    examples = contract.request_examples()
    token, pan = examples["tokenCallback"], examples["panCallback"]
    incomplete_token = {k: v for k, v in token["networkToken"].items() if k != "cryptogram"}
    lenient = [
        {**pan, "networkToken": incomplete_token},  # a PAN callback's network token, which it may never read
        {**token, "encryptedPan": 42},
        {**token, "networkToken": {**token["networkToken"], "eci": 7}},
        {**token, "networkToken": {**token["networkToken"], "tokenType": "AMEX"}},
        {**token, "pspReference": ""},
    ]
    strict = [
        {**token, "networkToken": incomplete_token},  # the token a TOKEN callback is paid with
        {**token, "networkToken": {**token["networkToken"], "expiryMonth": 3}},
        {**pan, "encryptedPan": 42},
        {**token, "merchantSerialNumber": "12"},
        {**token, "paymentInstrument": "CARD"},
    ]
    for body in lenient + strict:
        assert contract.request_errors(body), body
    assert [leniency.only_lenient_breaks(b) for b in lenient] == [True] * len(lenient)
    assert [leniency.only_lenient_breaks(b) for b in strict] == [False] * len(strict)


def test_every_callback_is_a_fresh_attempt_except_the_copies(contract: Contract) -> None:
    probes = [p for p in plan(contract) if p.role not in (Role.INVALID, Role.INVALID_SHOULD)]
    copies = (Role.REPEAT, Role.AT_ONCE)
    firsts = [p for p in probes if p.role not in copies]
    attempts = [json.loads(p.body)["authorizationAttemptId"] for p in firsts]
    assert len(attempts) == len(set(attempts))
    cryptograms = [json.loads(p.body).get("networkToken", {}).get("cryptogram") for p in firsts]
    cryptograms = [c for c in cryptograms if c]
    assert len(cryptograms) == len(set(cryptograms))
    repeats = [p for p in probes if p.group and p.group.kind is GroupKind.REPEAT]
    assert repeats[0].body == repeats[1].body


def test_copies_sent_at_once_are_identical_and_their_own_attempt(contract: Contract) -> None:
    probes = plan(contract)
    groups: dict[Group, list[Probe]] = {}
    for probe in probes:
        if probe.role is Role.AT_ONCE and probe.group:
            groups.setdefault(probe.group, []).append(probe)
    assert len(groups) >= 2
    others = {json.loads(p.body)["authorizationAttemptId"] for p in probes
              if p.role is not Role.AT_ONCE and p.role not in (Role.INVALID, Role.INVALID_SHOULD)}
    for group in groups.values():
        assert len({p.body for p in group}) == 1
        assert sum(p.at_once for p in group) >= 2 and not group[-1].at_once  # a burst, then one more after it
        assert json.loads(group[0].body)["authorizationAttemptId"] not in others


def test_generated_valid_callbacks_lose_unknown_properties(contract: Contract) -> None:
    for probe in plan(contract):
        if probe.role is Role.VALID:
            body = json.loads(probe.body)
            assert not set(body) - {"pspReference", "authorizationAttemptId", "merchantSerialNumber",
                                    "maskedCardNumber", "cardType", "cardIssuedInCountryCode", "paymentInstrument",
                                    "networkToken", "encryptedPan", "softDeclineCompletedRedirectUrl"}, probe.label


def test_extended_callbacks_carry_unknown_fields_at_every_level(contract: Contract) -> None:
    # (The large body's twin is EXTENDED too, with its padding field only: CC014's, in a group of its own.)
    extended = [json.loads(p.body) for p in plan(contract)
                if p.role is Role.EXTENDED and str(p.group).startswith("extended-")]
    assert extended
    for body in extended:
        assert set(FUTURE_FIELDS) <= set(body)
        # The card's fields also come in an unknown place, as a revision that moves them would send them.
        assert body[FUTURE_COPY]["maskedCardNumber"] == body["maskedCardNumber"]
        assert body[FUTURE_COPY]["cardDataType"] == body["paymentInstrument"]
        if isinstance(body.get("networkToken"), dict):
            assert set(FUTURE_NESTED) <= set(body["networkToken"])
    assert any(isinstance(body.get("networkToken"), dict) for body in extended)


def test_unknown_fields_reach_nested_and_discriminated_objects() -> None:
    nested = Contract.from_file(Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml")
    counter = itertools.count()
    planner = Planner(nested, Generated((), ()), lambda: f"id-{next(counter)}")
    extended = {p.label: json.loads(p.body) for p in planner.extended() if p.role is Role.EXTENDED}
    token = extended["document example token with unknown fields"]
    pan = extended["document example pan with unknown fields"]
    for body in (token, pan):
        assert nested.request_errors(body) == []
        assert set(FUTURE_FIELDS) <= set(body)
        assert set(FUTURE_NESTED) <= set(body["cardInfo"]) and set(FUTURE_NESTED) <= set(body["amount"])
        assert body[FUTURE_COPY]["maskedCardNumber"] == body["cardInfo"]["maskedCardNumber"]
    assert set(FUTURE_NESTED) <= set(token["cardInfo"]["networkToken"])


def test_each_required_field_pattern_and_instrument_rule_is_broken(contract: Contract) -> None:
    token = contract.request_examples()["tokenCallback"]
    labels = {m.label for m in mutations(contract, token)}
    assert {"merchantSerialNumber: missing", "networkToken: missing", "networkToken.number: wrong type (int)",
            "cardIssuedInCountryCode: does not match ^[A-Z]{2}$", "paymentInstrument PAN without encryptedPan",
            "networkToken.tokenType: not one of VISA, MASTERCARD"} <= labels
    # The https rule is a pattern, and is broken like any other; `format: uri` is not asserted by every validator,
    # so a URL that only breaks the format is not "invalid" and no mutation targets it alone.
    url_breaks = [label for label in labels if label.startswith("softDeclineCompletedRedirectUrl: does not")]
    assert len(url_breaks) == 1
    assert url_breaks[0].startswith("softDeclineCompletedRedirectUrl: does not match ^(?:https")


@pytest.mark.parametrize("url", ["http://psp.test:8443/cb/vipps?tenant=a%2Fb&x=1", "https://psp.example/cb"])
def test_signed_requests_verify_with_the_core_scheme(contract: Contract, url: str) -> None:
    probe = Probe("p", Role.VALID, b'{"a": "\xc3\xa6"}')
    request = prepare(probe, url, SECRET, contract.hmac, NOW)
    host, target = target_parts(url)
    assert request.header("host") == host
    headers = {k.lower(): v for k, v in request.headers}
    signing.verify(SECRET, method="POST", path_and_query=target, headers=headers, body=request.body, now=NOW,
                   max_skew_seconds=contract.hmac.max_clock_skew_seconds)
    assert target == ("/cb/vipps?tenant=a%2Fb&x=1" if "?" in url else "/cb")


AUTH_SPOILINGS = (Tamper.NO_AUTH_HEADER, Tamper.WRONG_AUTH_HEADER)


@pytest.mark.parametrize("tamper", [t for t in Tamper if t is not Tamper.NONE and t not in AUTH_SPOILINGS])
def test_every_tampering_fails_verification(contract: Contract, tamper: Tamper) -> None:
    signed_body = b'{"maskedCardNumber": "47969485XXXX1234"}' if tamper.name.startswith("BODY_CHANGED") else None
    probe = Probe("p", Role.TAMPERED, b'{"maskedCardNumber": "47969485XXXX0002"}', tamper=tamper,
                  signed_body=signed_body)
    url = "http://psp.test/cb"
    request = prepare(probe, url, SECRET, contract.hmac, NOW)
    headers = {k.lower(): v for k, v in request.headers}
    with pytest.raises(SignatureError):
        signing.verify(SECRET, method="POST", path_and_query="/cb", headers=headers, body=request.body, now=NOW,
                       max_skew_seconds=contract.hmac.max_clock_skew_seconds)


def test_the_wrong_secret_is_random_not_derived_from_the_real_one(contract: Contract) -> None:
    probe = Probe("p", Role.TAMPERED, b'{"a":1}', tamper=Tamper.WRONG_SECRET)
    first, second = (prepare(probe, "http://psp.test/cb", SECRET, contract.hmac, NOW) for _ in range(2))
    name = contract.hmac.authorization_header
    # A key derived from the secret (a fixed transformation) would sign the same request the same way twice.
    assert first.header(name) != second.header(name)


@pytest.mark.parametrize("tamper", AUTH_SPOILINGS)
def test_an_auth_header_spoiling_is_signed_correctly_and_only_the_header_is_wrong(
    contract: Contract, tamper: Tamper
) -> None:
    auth = AuthHeader("X-Card-Callback-Auth", "the-value-0123")
    probe = Probe("p", Role.UNAUTHENTICATED, b'{"maskedCardNumber": "47969485XXXX0002"}', tamper=tamper)
    request = prepare(probe, "http://psp.test/cb", SECRET, contract.hmac, NOW, auth)
    headers = {k.lower(): v for k, v in request.headers}
    signing.verify(SECRET, method="POST", path_and_query="/cb", headers=headers, body=request.body, now=NOW,
                   max_skew_seconds=contract.hmac.max_clock_skew_seconds)
    sent = headers.get("x-card-callback-auth")
    if tamper is Tamper.NO_AUTH_HEADER:
        assert sent is None
    else:
        assert sent is not None and len(sent) == len(auth.value)
        assert all(a != b for a, b in zip(sent, auth.value, strict=True))
    good = prepare(Probe("p", Role.VALID, b"{}"), "http://psp.test/cb", None, contract.hmac, NOW, auth)
    assert good.header("X-Card-Callback-Auth") == auth.value
    assert redacted(good, auth).header("X-Card-Callback-Auth") == "***"


def test_without_a_secret_nothing_is_signed(contract: Contract) -> None:
    request = prepare(Probe("p", Role.VALID, b"{}"), "http://psp.test/cb", None, contract.hmac, NOW)
    assert {k for k, _ in request.headers} == {"Host", "Content-Type", "Accept"}


def test_generation_leaves_out_strings_a_careful_psp_may_cap(contract: Contract) -> None:
    from contract_tests.generation import MAX_STRING_LENGTH, _usable_valid

    example = contract.request_examples()["panCallback"]
    assert _usable_valid(contract, example)
    assert _usable_valid(contract, {**example, "cardType": "x" * MAX_STRING_LENGTH})
    assert not _usable_valid(contract, {**example, "cardType": "x" * (MAX_STRING_LENGTH + 1)})
    assert not _usable_valid(contract, {**example, "x-unknown": {"note": "x" * (MAX_STRING_LENGTH + 1)}})


def test_a_valid_callback_is_one_an_ecma_262_regex_accepts(contract: Contract) -> None:
    # Python's `$` matches before a final newline and its `\d` takes other scripts' digits; the one validator
    # (and so generation) uses ECMA-262, as a PSP's OpenAPI tooling does.
    example = contract.request_examples()["panCallback"]
    assert not contract.is_valid_request({**example, "merchantSerialNumber": "1234\n"})
    assert not contract.is_valid_request({**example, "merchantSerialNumber": "\u0661\u0662\u0663\u0664"})


def test_every_broken_callback_is_its_own_attempt(contract: Contract) -> None:
    invalid = [json.loads(p.body) for p in plan(contract) if p.role is Role.INVALID and " with " in p.label]
    attempts = [b["authorizationAttemptId"] for b in invalid if str(b.get("authorizationAttemptId")).startswith("id-")]
    assert len(attempts) > 50
    assert len(attempts) == len(set(attempts))


@pytest.mark.parametrize("trap", ["trailing newline", "surrounding whitespace", "Arabic-Indic digits"])
def test_every_patterned_field_gets_the_regex_traps_and_each_is_invalid(contract: Contract, trap: str) -> None:
    for body in contract.request_examples().values():
        labels = {m.label: m.body for m in mutations(contract, body)}
        for field in ("merchantSerialNumber", "maskedCardNumber", "cardIssuedInCountryCode"):
            if trap == "Arabic-Indic digits" and field == "cardIssuedInCountryCode":
                continue  # no digits to swap
            assert f"{field}: {trap}" in labels, (field, sorted(labels))
            assert contract.request_errors(labels[f"{field}: {trap}"]), (field, trap)
        if "networkToken" in body:
            assert f"networkToken.number: {trap}" in labels


def test_a_trailing_newline_is_never_taken_for_valid(contract: Contract) -> None:
    body = contract.request_examples()["tokenCallback"]
    broken = {m.label: m.body for m in mutations(contract, body)}["merchantSerialNumber: trailing newline"]
    assert broken["merchantSerialNumber"] == "123456\n"


def test_a_break_only_int64_sees_is_a_fresh_should_level_attempt() -> None:
    nested = Contract.from_file(Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml")
    counter = itertools.count()
    planner = Planner(nested, Generated((), ()), lambda: f"id-{next(counter)}")
    probes = [p for p in planner.invalid() if "above int64" in p.label]
    assert [p.label for p in probes] == ["token with amount.value: above int64 (9223372036854775808)",
                                         "pan with amount.value: above int64 (9223372036854775808)"]
    examples = nested.request_examples()
    for probe, example in zip(probes, examples.values(), strict=True):
        body = json.loads(probe.body)
        assert probe.role is Role.INVALID_SHOULD  # JSON Schema lets a validator skip formats
        assert body["authorizationAttemptId"] != example["authorizationAttemptId"]
        assert body["amount"]["value"] == 2**63
