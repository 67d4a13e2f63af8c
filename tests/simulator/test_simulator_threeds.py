"""Reading 3-D Secure pages: the reference server's tag, and the form a browser would submit."""

from __future__ import annotations

from simulator.threeds import parse_page

PAGE_URL = "http://127.0.0.1:8080/3ds/abc"


def test_reference_page_with_buttons() -> None:
    page = parse_page(
        '<html><head><META NAME="generator" content="card-callback reference server"></head><body>'
        '<form method="POST"><input type="hidden" name="csrf" value="t&amp;1">'
        '<button name="decision" value="approve">Approve</button>'
        '<button name="decision" value="reject">Reject</button>'
        '<button type="button" name="help" value="x">?</button></form>',
        PAGE_URL,
    )
    assert page.is_reference_server
    form = page.decision_form()
    assert form is not None
    assert (form.action, form.decisions()) == (PAGE_URL, ("approve", "reject"))
    assert form.submission("reject") == [("csrf", "t&1"), ("decision", "reject")]


def test_other_generators_and_no_tag_are_not_the_reference_server() -> None:
    assert not parse_page('<meta name="generator" content="Hugo 0.1">', PAGE_URL).is_reference_server
    assert not parse_page("<p>no head</p>", PAGE_URL).is_reference_server


def test_radio_inputs_select_and_relative_action() -> None:
    page = parse_page(
        '<form method="get" action="/search"><input name="decision" value="approve"></form>'
        '<form method="post" action="submit?x=1">'
        '<input type="radio" name="decision" value="approve" checked>'
        '<input type="radio" name="decision" value="reject">'
        '<select name="lang"><option value="nb">nb</option><option value="en" selected>en</option></select>'
        '<input type="text" name="otp" value="123">'
        '<input type="submit" value="Go">',  # the form is never closed: browsers still submit it
        PAGE_URL,
    )
    form = page.decision_form()
    assert form is not None
    assert form.action == "http://127.0.0.1:8080/3ds/submit?x=1"
    assert form.decisions() == ("approve", "reject")
    assert form.submission("reject") == [("lang", "en"), ("otp", "123"), ("decision", "reject")]


def test_page_without_a_decision_form() -> None:
    page = parse_page('<form method="post"><input name="otp"></form>', PAGE_URL)
    assert page.decision_form() is None


def test_the_page_origin_is_what_a_browser_names_in_the_post() -> None:
    # The reference server refuses a decision post whose Origin is not its page's own.
    assert parse_page("", PAGE_URL).origin == "http://127.0.0.1:8080"
    assert parse_page("", "https://PSP.example:443/3ds/a?b=c").origin == "https://psp.example"
    assert parse_page("", "http://[::1]:9000/3ds/a").origin == "http://[::1]:9000"
