"""Masking of personal data (phones, email addresses, resident numbers) for logs and exports.

Masked values keep their last two digits (or the first letter and domain of an address) so
support staff can tell two entries apart in a log without the data being exposed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Korean resident registration number: YYMMDD-GNNNNNN.
_RESIDENT_NUMBER = re.compile(r"(?<![\w-])\d{6}-?[1-8]\d{6}(?![\w-])")
# International (E.164-like) numbers always start with '+': +82 10 0000 0001, +82-2-123-4567.
_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){2,5}(?![\w])")
# Korean national numbers start with 0: 010-0000-1234, 01000001234, 02-123-4567, 031.123.4567.
# Dates (2026-11-28) and references (CSR-2026-000123) do not start with 0 or are glued to
# a letter or hyphen, so they are left alone.
_NATIONAL = re.compile(r"(?<![\w\-.])0\d{1,2}[ .\-]?\d{3,4}[ .\-]?\d{4}(?![\w\-])")


# URL paths whose next segment is a secret (webhook tokens, signed links), as regular
# expressions of their prefix; apps register theirs (secret_paths_register) from ready().
_secret_prefixes: list[str] = []
_secret_path: list[re.Pattern[str]] = []


def secret_paths_register(*prefixes: str) -> None:
    """Mask the path segment after each of ``prefixes`` (regular expressions ending in
    "/") wherever a log or export shows it: whoever reads a log must not be able to post
    alerts or acknowledge pages with what it shows."""
    _secret_prefixes.extend(p for p in prefixes if p not in _secret_prefixes)
    _secret_path[:] = [re.compile("(" + "|".join(_secret_prefixes) + r")[^/\s?#\"']+")]


def path_secrets_masked(text: str) -> str:
    """``text`` with the secret segment of every registered path replaced by ``***``."""
    if not _secret_path or "/" not in text:
        return text
    return _secret_path[0].sub(r"\1***", text)


def mask_email(address: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", address)


def mask_phone(number: str) -> str:
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 4:
        return "***"
    return "*" * (len(digits) - 2) + "".join(digits[-2:])


def mask_text(text: str) -> str:
    """Mask every email address, phone number and resident number in free text, and the
    secrets some URL paths carry."""
    text = path_secrets_masked(mask_email(text))
    text = _RESIDENT_NUMBER.sub("******-*******", text)
    text = _INTERNATIONAL.sub(lambda m: "+" + mask_phone(m.group(0)), text)
    return _NATIONAL.sub(lambda m: mask_phone(m.group(0)), text)


def mask_value(value: Any) -> Any:
    """Mask strings inside ``value`` (also inside lists, tuples and dicts); other values as is."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v) for v in value]
    return value
