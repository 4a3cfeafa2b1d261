"""The server's access log: one JSON line per request, personal data and secrets masked."""

from __future__ import annotations

import json
import logging

from opsdesk.jobs.web import ACCESS_LOGGER, AccessLog, access_logger_setup


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def _fresh_logger():
    # Its handler writes to the sys.stdout of the moment, which capsys swaps per test.
    logging.getLogger(ACCESS_LOGGER).handlers.clear()
    return access_logger_setup()


def _logged(capsys, path: str, query: str = "") -> dict:
    logger = _fresh_logger()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query}
    assert b"".join(AccessLog(_app, logger)(environ, lambda *a: None)) == b"ok"
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


def test_the_line_has_the_status_size_and_time_of_the_answer(capsys):
    line = _logged(capsys, "/tickets/")
    assert (line["logger"], line["msg"], line["method"]) == ("opsdesk.access", "request", "POST")
    assert (line["status"], line["bytes"]) == (200, 2)
    assert line["duration_ms"] >= 0


def test_nothing_is_written_when_the_access_log_is_off(capsys):
    logger = _fresh_logger()
    logger.setLevel("WARNING")
    try:
        AccessLog(_app, logger)({"PATH_INFO": "/"}, lambda *a: None)
        assert capsys.readouterr().out == ""
    finally:
        logger.setLevel("INFO")
