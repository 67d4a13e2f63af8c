"""Pure renderers: the 3-D Secure HTML page and the operator's JSON view of an attempt."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from reference_server.browser_headers import source_hash
from reference_server.callback_fields import CallbackNames
from reference_server.decision_form import TOKEN_FIELD
from reference_server.psp import ThreeDSecureView, three_ds_state
from reference_server.redirects import allowed_redirect
from reference_server.storage import Attempt
from reference_server.storage import iso_time as iso

GENERATOR = "card-callback reference server"
# The user meets this page on a phone, inside the Vipps MobilePay flow: one column, large buttons, no assets.
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f6; color: #1c1c1e; }
main { max-width: 26rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border-radius: 12px;
       box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
h1 { font-size: 1.4rem; margin-top: 0; }
.note { color: #6c6c70; font-size: .85rem; }
code { word-break: break-all; }
form { display: flex; gap: .75rem; margin-top: 1.25rem; }
button { flex: 1; font-size: 1.05rem; padding: .8rem; border-radius: 8px; border: 1px solid #c7c7cc;
         background: #fff; cursor: pointer; }
button#approve { background: #ff5b24; border-color: #ff5b24; color: #fff; }
"""
# The page's only style, allowed by the Content-Security-Policy by this hash (no inline style else runs).
STYLE_HASH = source_hash(_STYLE)


def format_three_ds_page(view: ThreeDSecureView, token: str) -> str:
    """The page a soft decline sends the user to; while open, one form posting `decision` and the session's
    `token` here. The return link is shown only for a URL a browser may be sent to (`allowed_redirect`)."""
    attempt = escape(view.attempt_id)
    if view.state == "open":
        body = (
            "<p>Your bank asks you to confirm this card payment.</p>\n"
            # No action attribute: the form posts back to this very URL.
            '<form method="post">\n'
            f'  <input type="hidden" name="{TOKEN_FIELD}" value="{escape(token, quote=True)}">\n'
            '  <button type="submit" name="decision" value="approve" id="approve">Approve</button>\n'
            '  <button type="submit" name="decision" value="reject" id="reject">Reject</button>\n'
            "</form>"
        )
    elif view.state == "decided":
        recorded = f'<p id="state">Decision recorded: {escape(view.decision or "")}.</p>\n'
        if allowed_redirect(view.completed_redirect_url):
            target = escape(view.completed_redirect_url, quote=True)
            body = f'{recorded}<p><a href="{target}">Return to Vipps MobilePay</a></p>'
        else:
            body = (f'{recorded}<p id="no-return">The return address stored for this payment is not an https URL, '
                    "so this page does not link to it. Go back to the Vipps MobilePay app.</p>")
    else:
        body = '<p id="state">This 3-D Secure session is closed.</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>3-D Secure</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>3-D Secure</h1>\n<p>Authorization attempt <code>{attempt}</code></p>\n"
        f"{body}\n"
        '<p class="note">Simulated issuer of the card-callback reference server: no real bank is asked.</p>\n'
        "</main>\n</body>\n</html>\n"
    )


def attempt_view(attempt: Attempt, names: CallbackNames) -> dict[str, Any]:
    """The operator's look-up of one attempt (`Attempt` in openapi/reference-server.yaml).

    The callback's own fields are shown under the names the contract document gives them (`names`).
    """
    callbacks = [
        {
            "sequence": c.sequence,
            "receivedAt": iso(c.received_at),
            "answeredAt": iso(c.answered_at),
            "latencyMs": round(max((c.answered_at - c.received_at).total_seconds(), 0.0) * 1000, 2),
            "bodySha256": c.body_sha256,
            "answer": json.loads(c.answer),
        }
        for c in attempt.callbacks
    ]
    soft_declined = bool(attempt.callbacks) and attempt.callbacks[0].status == "SOFT_DECLINE"
    three_ds = (
        {
            "state": three_ds_state(attempt),
            "decision": attempt.three_ds_decision,
            "decidedAt": iso(attempt.three_ds_decided_at) if attempt.three_ds_decided_at else None,
            "completedRedirectUrl": attempt.completed_redirect_url,
        }
        if soft_declined
        else None
    )
    late = (
        {"status": attempt.late_status, "recordedAt": iso(attempt.late_recorded_at)}
        if attempt.late_status and attempt.late_recorded_at
        else None
    )
    return {
        names.attempt_id: attempt.attempt_id,
        names.psp_reference: attempt.psp_reference,
        names.merchant_serial_number: attempt.merchant_serial_number,
        names.masked_card_number: attempt.masked_card_number,
        "createdAt": iso(attempt.created_at),
        "callbacks": callbacks,
        "threeDSecure": three_ds,
        "lateOutcome": late,
    }
