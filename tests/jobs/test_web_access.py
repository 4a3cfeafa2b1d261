"""The access line built without the logging filter and formatter: same layout and masking
as JsonFormatter's lines (tests/jobs/test_access_log.py covers the logger end to end)."""

from __future__ import annotations

import json
import logging

import pytest

from opsdesk.core.logging import JsonFormatter, mask_text_quick
from opsdesk.core.masking import mask_text, path_secrets_masked
from opsdesk.jobs.web import access_line

SAMPLES = [
    "",
    "/api/v1/integrations/alertmanager/***/",
    "q=010-0000-0001",
    "q=01000000001&page=2",
    "from +82 10 0000 0001 today",
    "+1-2-3",
    "call 02-123-4567",
    "031.123.4567",
    "a.person@example.test wrote",
    "id 900101-1234567",
    "CSR-2026-000123 on 2026-11-28",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "wrk",
    "127.0.0.1",
    "2001:db8::1",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_the_quick_masking_masks_exactly_what_mask_text_does(text):
    assert mask_text_quick(text) == mask_text(text)


def test_the_line_has_the_formatters_layout_and_masks_fields():
    environ = {
        "REMOTE_ADDR": "192.0.2.7",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/integrations/grafana/q8Zr2mLk0VxYtW3sNaBcDeFgHiJkLmNo/",
        "QUERY_STRING": "caller=010-0000-0001",
        "HTTP_USER_AGENT": "Grafana/11.0",
        "HTTP_REFERER": "https://example.test/?mail=a.person@example.test",
    }
    line = access_line(
        logger="opsdesk.access", status="200 OK", sent=52, environ=environ, seconds=0.00123
    )
    parsed = json.loads(line)
    assert list(parsed)[:4] == ["ts", "level", "logger", "msg"]
    assert (parsed["level"], parsed["logger"], parsed["msg"]) == (
        "INFO",
        "opsdesk.access",
        "request",
    )
    assert parsed["path"] == "/api/v1/integrations/grafana/***/"
    assert "0000-0001" not in parsed["query"] and parsed["query"].endswith("01")
    assert "a.person" not in parsed["referer"]
    assert (parsed["status"], parsed["bytes"], parsed["duration_ms"]) == (200, 52, 1.23)
    assert parsed["remote_addr"] == "192.0.2.7"
    # the same fields through the formatter give the same line, but for the time
    record = logging.makeLogRecord(
        {"name": "opsdesk.access", "levelname": "INFO", "msg": "request"}
    )
    for key, value in parsed.items():
        if key not in ("ts", "level", "logger", "msg"):
            setattr(record, key, value)
    formatted = json.loads(JsonFormatter().format(record))
    assert {**formatted, "ts": ""} == {**parsed, "ts": ""}


def test_path_secrets_each_masked_once():
    assert path_secrets_masked("/oncall/ack/eyJlIjoxMn0:1vPq2r:AbCdEf/") == "/oncall/ack/***/"
    assert path_secrets_masked("/oncall/feeds/7/Zx81-sig/person/3.ics") == (
        "/oncall/feeds/7/***/person/3.ics"
    )
    assert path_secrets_masked("/tickets/CSR-2026-000123/") == "/tickets/CSR-2026-000123/"


@pytest.mark.django_db
def test_a_refused_signed_link_is_logged_without_its_secret(client, caplog):
    # Django logs every 4xx with its path (django.request); the JSON formatter masks the
    # registered secret paths wherever a message or field shows them.
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/oncall/ack/eyJlIjo5OTl9:1vPq2r:NotAValidSignatureXyz/")
        client.get("/oncall/feeds/7/forged-signature-Qw3/person/3.ics")
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines and all(json.loads(line)["level"] == "WARNING" for line in lines)
    text = "\n".join(lines)
    assert "NotAValidSignatureXyz" not in text and "forged-signature-Qw3" not in text
    assert "/oncall/ack/***/" in text


def test_the_quick_mask_hides_path_secrets_too():
    referer = "https://desk.example/oncall/ack/eyJlIjoxMn0:1vPq2r:AbCdEf/"
    assert (
        mask_text_quick(referer) == mask_text(referer) == ("https://desk.example/oncall/ack/***/")
    )
