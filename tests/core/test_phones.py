from __future__ import annotations

import pytest

from opsdesk.core.errors import InvalidInput
from opsdesk.core.phones import format_phone_national, normalize_phone, try_normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("02-123-4567", "+8221234567"),
        ("0212345678", "+82212345678"),
        ("010-0000-0001", "+821000000001"),
        ("01000000001", "+821000000001"),
        ("+82 10 0000 0001", "+821000000001"),
        ("+82-2-123-4567", "+8221234567"),
        ("  010 0000 0001  ", "+821000000001"),
    ],
)
def test_normalize_phone(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "hello",
        "12",
        "+82",
        "전화번호",
        "010-0000-0001-0001-0001",
        "010-00",
        "123-4567",
    ],
)
def test_normalize_phone_rejects_garbage(raw):
    with pytest.raises(InvalidInput) as info:
        normalize_phone(raw)
    assert info.value.field == "number"


def test_try_normalize_returns_none_for_garbage():
    assert try_normalize_phone("not a number") is None
    assert try_normalize_phone("010-0000-0001") == "+821000000001"


def test_national_format_round_trip():
    assert format_phone_national(normalize_phone("010-0000-0001")) == "010-0000-0001"
    assert format_phone_national(normalize_phone("02-123-4567")) == "02-123-4567"
