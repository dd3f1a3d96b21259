"""Remove personal data from a text: e-mail addresses, phone numbers, card numbers, IBANs, team members' names.

A pure module (no I/O), shared by the reply retrieval (replies are redacted before they are stored or shown) and
the review inbox. Each kind of data is replaced by a placeholder in square brackets (``[email]``, ``[phone]``,
``[card]``, ``[iban]``, ``[name]``), so a redacted text still reads naturally and can be redacted again with no
change. What is matched:

- **e-mail**: ``local@domain.tld``, also inside ``mailto:`` links;
- **IBAN**: two capital letters, two check digits and 11 to 30 capitals or digits, spaced in groups of four or
  not, whose ISO 13616 mod-97 check holds (so a random code is left alone);
- **card**: 13 to 19 digits, optionally in groups separated by spaces or dashes, passing the Luhn check;
- **phone**: 7 to 15 digits with an international prefix (``+`` or ``00``), or separated into groups
  (``030 1234 5678``, ``(555) 123-4567``), or 10 digits or more written together; a bare number of 7 to 9 digits
  (an order number) is left alone, as are dates and times;
- **name**: the names configured (team members), case ignored, whole words only; with ``name_parts`` each part of
  a full name of three letters or more is matched on its own too (``Anna`` as well as ``Anna Schmidt``);
- **order number** (only with ``order_numbers=True``, off by default): a bare number of 5 to 12 digits left after
  the steps above becomes ``[order]``; :func:`order_placeholder` gives a neutral number of the same shape for
  callers that keep an order number as an entity (the review export does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
IBAN = "[iban]"
NAME = "[name]"
ORDER = "[order]"

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD_RE = re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])")
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?(?:\(\d{1,5}\) ?)?\d[\d ./-]{5,}\d(?![\w])")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_ORDER_RE = re.compile(r"(?<![\w.,:/-])\d{5,12}(?![\w]|[.,:/-]\d)")


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a string of digits (card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored, case ignored)."""
    s = re.sub(r"\s+", "", text).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


@dataclass(frozen=True)
class Redactor:
    """Redaction settings: the team's names (optional) and whether their parts are matched alone."""

    team_names: tuple[str, ...] = ()
    name_parts: bool = True
    order_numbers: bool = False

    def __post_init__(self) -> None:
        words: set[str] = set()
        for name in self.team_names:
            name = " ".join(name.split())
            if not name:
                continue
            words.add(name)
            if self.name_parts:
                words.update(part for part in name.split() if len(part) >= 3)
        # longest first, so "Anna Schmidt" is one placeholder, not two
        ordered = sorted(words, key=lambda w: (-len(w), w))
        pattern = (
            re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered) + r")(?!\w)", re.I
            )
            if ordered
            else None
        )
        object.__setattr__(self, "_names", pattern)

    def redact(self, text: str) -> str:
        """The text with every piece of personal data replaced by its placeholder."""
        text = _EMAIL_RE.sub(EMAIL, text)
        text = _IBAN_RE.sub(_iban, text)
        text = _CARD_RE.sub(lambda m: CARD if _is_card(m.group()) else m.group(), text)
        text = _PHONE_RE.sub(_phone, text)
        names = self._names  # type: ignore[attr-defined]
        if names is not None:
            text = names.sub(NAME, text)
        if self.order_numbers:
            text = _ORDER_RE.sub(ORDER, text)
        return text

    def redact_all(self, texts: Iterable[str]) -> list[str]:
        """:meth:`redact` of each text."""
        return [self.redact(t) for t in texts]


def _iban(match: re.Match[str]) -> str:
    """The longest prefix of the match, cut at a space, that is a valid IBAN, replaced; the rest kept."""
    raw = match.group()
    cuts = [len(raw)] + [i for i in range(len(raw) - 1, 0, -1) if raw[i] == " "]
    for cut in cuts:
        if iban_ok(raw[:cut]):
            return IBAN + raw[cut:]
    return raw


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _phone(match: re.Match[str]) -> str:
    raw = match.group()
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.match(raw.strip()):
        return raw
    international = raw.startswith(("+", "00"))
    grouped = bool(re.search(r"\d[ ()./-]+\d", raw)) or raw.startswith("(")
    if international or len(digits) >= 10 or (grouped and not re.fullmatch(r"[\d.]+", raw)):
        return PHONE
    return raw


def order_placeholder(number: str) -> str:
    """A neutral stand-in for an order number: ``123456789`` cut to its length (5 to 9 digits, never a phone)."""
    return "123456789"[: max(5, min(9, len(re.sub(r"\D", "", number))))]


def redact(text: str, team_names: Iterable[str] = ()) -> str:
    """Redact one text (see :class:`Redactor`; build one Redactor to redact many texts with the same names)."""
    return Redactor(tuple(team_names)).redact(text)
