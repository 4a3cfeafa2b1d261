"""Input types shared by every app's API schemas: bounded, NUL-free, encodable text and
database-sized integers, so no input can reach the database in a shape it rejects."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

MAX_DB_INT = 2**63 - 1


def clean_text(value: str) -> str:
    """Reject text PostgreSQL cannot store (NUL) or that is not valid Unicode (lone
    surrogates from JSON escapes)."""
    if "\x00" in value:
        raise ValueError("Text must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("Text must be valid Unicode.") from exc
    return value


def is_clean_text(value: str, *, max_length: int) -> bool:
    try:
        clean_text(value)
    except ValueError:
        return False
    return 0 < len(value) <= max_length


DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
Username = Annotated[
    str, StringConstraints(min_length=1, max_length=150), AfterValidator(clean_text)
]
Subject = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(clean_text),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(clean_text),
]
ShortText = Annotated[str, StringConstraints(max_length=100), AfterValidator(clean_text)]
LongText = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(clean_text)]
SearchText = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
Cursor = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
Limit = Annotated[int, Field(ge=1, le=200)]
# Digits with the usual separators: '010-0000-0001', '+82 10 0000 0001', '(02) 000-0000'.
PhoneText = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[0-9+()./ -]+$")
]
