from __future__ import annotations

import io
import json
import logging

import pytest

from opsdesk.core.logging import JsonFormatter, MaskPersonalDataFilter
from opsdesk.core.masking import mask_text, mask_value


@pytest.fixture
def capture():
    """A logger wired like settings.LOGGING: JSON formatter plus the masking filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskPersonalDataFilter())
    log = logging.getLogger("tests.core.masking")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield log, lines
    log.removeHandler(handler)


def test_message_with_phones_and_email_is_masked(capture):
    log, lines = capture
    log.info(
        "call from %s, callback %s, mail %s",
        "010-0000-1234",
        "+82 10 0000 0001",
        "minsu.kim@example.co.kr",
    )
    (line,) = lines()
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.core.masking"
    msg = line["msg"]
    assert "010-0000-1234" not in msg and "0000-1234" not in msg
    assert "+82 10 0000 0001" not in msg
    assert "minsu.kim" not in msg
    assert "*********34" in msg
    assert "+**********01" in msg
    assert "m***@example.co.kr" in msg


def test_extra_fields_are_masked_including_nested(capture):
    log, lines = capture
    log.warning(
        "sms failed",
        extra={
            "to": "01000001234",
            "contact": {"email": "jiyoung.lee@example.com", "phones": ["+82-2-123-4567"]},
            "attempt": 3,
        },
    )
    (line,) = lines()
    raw = json.dumps(line, ensure_ascii=False)
    assert "01000001234" not in raw
    assert "jiyoung.lee" not in raw
    assert "123-4567" not in raw
    assert line["to"] == "*********34"
    assert line["contact"]["email"] == "j***@example.com"
    assert line["attempt"] == 3


def test_formatter_masks_even_without_the_filter():
    formatter = JsonFormatter()
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "reach me at 010-0000-1234", "args": None}
    )
    record.caller = "+821000001234"
    line = json.loads(formatter.format(record))
    assert line["msg"] == "reach me at *********34"
    assert line["caller"] == "+**********34"


def test_exception_text_is_masked(capture):
    log, lines = capture
    try:
        raise ValueError("bad number 010-0000-1234")
    except ValueError:
        log.exception("failed")
    (line,) = lines()
    assert "ValueError" in line["exc"]
    assert "010-0000-1234" not in line["exc"]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T04:00:00+00:00",
        "ticket CSR-2026-000123",
        "INC-2026-000001 escalated",
        "127.0.0.1:8000",
        "took 1234567 us",
    ],
)
def test_dates_references_and_addresses_are_left_alone(text):
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010-0000-1234", "*********34"),
        ("01000001234", "*********34"),
        ("02-123-4567", "*******67"),
        ("0212345678", "********78"),
        ("+82-2-123-4567", "+********67"),
        ("+1 415 555 0100", "+*********00"),
        ("900101-1234567", "******-*******"),
    ],
)
def test_phone_and_resident_number_forms(text, expected):
    assert mask_text(f"x {text} y") == f"x {expected} y"


def test_mask_value_walks_containers():
    assert mask_value({"a": ["010-0000-1234", 5], "b": None}) == {
        "a": ["*********34", 5],
        "b": None,
    }
