"""The server's access log: one JSON line per request, personal data and secrets masked."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from opsdesk.jobs.web import JsonAccessLogger


def _logged(capsys, path: str, query: str = "") -> dict:
    config = Config()
    config.set("accesslog", "-")
    logger = JsonAccessLogger(config)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query}
    logger.access(SimpleNamespace(status="200 OK", sent=2), None, environ, timedelta(0))
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_webhook_tokens_ack_links_and_feed_signatures_never_reach_the_log(capsys):
    token = "q8Zr2mLk0VxYtW3sNaBcDeFgHiJkLmNo"
    line = _logged(capsys, f"/api/v1/integrations/alertmanager/{token}/")
    assert token not in json.dumps(line)
    assert line["path"] == "/api/v1/integrations/alertmanager/***/"
    assert line["status"] == 200
    ack = _logged(capsys, "/oncall/ack/eyJlIjoxMn0:1vPq2r:AbCdEf/")
    assert ack["path"] == "/oncall/ack/***/"
    feed = _logged(capsys, "/oncall/feeds/7/Zx81-signature/person/3.ics")
    assert feed["path"] == "/oncall/feeds/7/***/person/3.ics"


def test_a_caller_number_in_the_query_is_masked_and_plain_paths_are_kept(capsys):
    line = _logged(capsys, "/tickets/", "q=010-0000-0001")
    assert line["path"] == "/tickets/"
    assert "0000-0001" not in line["query"]
