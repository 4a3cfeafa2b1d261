"""Phone numbers in any Korean (or international) form, normalised to E.164 for matching."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from opsdesk.core.errors import InvalidInput


def normalize_phone(raw: str, *, region: str = "KR") -> str:
    """Return the E.164 form of ``raw`` ('02-123-4567' -> '+8221234567').

    Raises InvalidInput for text that is not a dialable number, so a typo is told to the
    agent instead of silently matching nobody.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_("A phone number is required."), field="number")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            _("Not a phone number: %(text)r.") % {"text": text}, field="number"
        ) from exc
    if not _plausible(parsed):
        raise InvalidInput(
            _("Not a possible phone number: %(text)r.") % {"text": text}, field="number"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Korean numbers have 8 to 10 national digits (02-123-4567 has 8). Numbers in ranges that are
# not allocated (such as the fictional 02-0000-xxxx) are still accepted: OpsDesk matches
# callers, it does not dial, and a customer's PBX may present any extension range.
_MIN_NATIONAL_DIGITS = 8


def _plausible(parsed: phonenumbers.PhoneNumber) -> bool:
    if phonenumbers.is_valid_number(parsed):
        return True
    return (
        phonenumbers.is_possible_number(parsed)
        and len(str(parsed.national_number)) >= _MIN_NATIONAL_DIGITS
    )


def try_normalize_phone(raw: str, *, region: str = "KR") -> str | None:
    try:
        return normalize_phone(raw, region=region)
    except InvalidInput:
        return None


def format_phone_national(e164: str) -> str:
    """How a Korean agent writes the number: '02-123-4567', '010-0000-0001'."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 82:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
