"""Unit tests for process_data.redact on realistic customer-service messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from process_data.redact import Redactor, iban_ok, luhn_ok, redact

TEAM = Redactor(("Anna Schmidt", "Tom Ng", "Jo"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # e-mail addresses, plain and in links
        (
            "Write to anna.schmidt@northwind.example, we answer within a day.",
            "Write to [email], we answer within a day.",
        ),
        ("mailto:refunds+eu@mail.northwind.co.uk", "mailto:[email]"),
        # phone numbers: international, grouped, written together
        ("Call us on +49 30 1234 5678 (9-17h).", "Call us on [phone] (9-17h)."),
        ("my number is 0049301234567", "my number is [phone]"),
        ("ring me at (555) 123-4567 after 6", "ring me at [phone] after 6"),
        ("Phone 030 1234 5678, ask for the warehouse", "Phone [phone], ask for the warehouse"),
        ("+44 20 7946 0958", "[phone]"),
        # card numbers, Luhn-checked
        ("I paid with 4111 1111 1111 1111 yesterday", "I paid with [card] yesterday"),
        ("card 5500-0000-0000-0004 was charged twice", "card [card] was charged twice"),
        ("card 4111111111111112 (a typo, not a card)", "card 4111111111111112 (a typo, not a card)"),
        # IBANs, mod-97-checked
        ("Please refund to DE89 3704 0044 0532 0130 00 thanks", "Please refund to [iban] thanks"),
        ("IBAN GB82WEST12345698765432.", "IBAN [iban]."),
        ("code AB12 CDEF GHIJ KLMN is a voucher", "code AB12 CDEF GHIJ KLMN is a voucher"),
        # team members' names, full or in part, any case
        ("Hi, Anna here. anna schmidt will call you, or Tom.", "Hi, [name] here. [name] will call you, or [name]."),
        ("Jo, Johanna and Joseph", "[name], Johanna and Joseph"),  # whole words only
        # what is left alone: order numbers, dates, times, prices, amounts
        ("Your order 5342765 ships on 2024-03-04 between 10:00 and 18:00.", None),
        ("Order #A-7741, 2 items, total 1.299,00 EUR", None),
        ("Refund of 49.99 issued on 04.03.2024", None),
        ("Tracking: 1Z999AA10123456784", None),
    ],
)
def test_realistic_messages(text: str, expected: str | None) -> None:
    assert TEAM.redact(text) == (text if expected is None else expected)


def test_several_kinds_in_one_reply_and_idempotence() -> None:
    text = "Anna Schmidt: mail me at a.s@x.example or call +49 151 2345 6789; refund to DE89370400440532013000."
    once = TEAM.redact(text)
    assert once == "[name]: mail me at [email] or call [phone]; refund to [iban]."
    assert TEAM.redact(once) == once


def test_checks() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")
    assert not iban_ok("DE89")


def test_no_names_configured_and_the_shortcut() -> None:
    assert Redactor().redact("Anna will call") == "Anna will call"
    assert redact("Anna will call", ["Anna"]) == "[name] will call"
    assert Redactor(("  ", "")).redact("x") == "x"


# --- properties ---------------------------------------------------------------------------


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@settings(max_examples=200, deadline=None)
@given(body=st.text("0123456789", min_size=15, max_size=15), sep=st.sampled_from(["", " ", "-"]))
def test_any_luhn_valid_card_in_groups_is_redacted(body: str, sep: str) -> None:
    number = _luhn_complete("4" + body[1:])
    grouped = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    assert Redactor().redact(f"I paid with {grouped} yesterday") == "I paid with [card] yesterday"


@settings(max_examples=200, deadline=None)
@given(
    country=st.sampled_from(["DE", "GB", "FR", "NL", "NO", "ES"]),
    bban=st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=14, max_size=26),
    spaced=st.booleans(),
)
def test_any_valid_iban_is_redacted(country: str, bban: str, spaced: bool) -> None:
    iban = _iban(country, bban)
    assert iban_ok(iban)
    shown = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    assert Redactor().redact(f"refund to {shown} please") == "refund to [iban] please"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_redaction_is_idempotent_and_keeps_text_without_digits_or_at(text: str) -> None:
    once = TEAM.redact(text)
    assert TEAM.redact(once) == once
    if not any(ch.isdigit() or ch == "@" for ch in text):
        assert once == Redactor().redact(text) == text
