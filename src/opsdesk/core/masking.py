"""Masking of personal data (phones, email addresses) for logs and exports."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Korean mobile/landline and E.164 forms; keeps the last two digits for support staff to
# tell numbers apart in a log without exposing them.
_PHONE = re.compile(r"(?<![\w])(\+?\d[\d\s\-]{6,}\d)(?![\w])")


def mask_email(address: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", address)


def mask_phone(number: str) -> str:
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 4:
        return "***"
    return "*" * (len(digits) - 2) + "".join(digits[-2:])


def mask_text(text: str) -> str:
    """Mask every email address and phone-like number in free text."""
    text = mask_email(text)
    return _PHONE.sub(lambda m: mask_phone(m.group(1)), text)
