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


def test_every_line_stays_below_a_pipes_atomic_write_size(capsys):
    """Workers write their lines to one shared output: a line under PIPE_BUF (4 KiB) is
    written whole, never interleaved with another worker's."""
    from opsdesk.jobs.web import ACCESS_FIELD_MAX

    logger = _fresh_logger()
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/tickets/" + "p" * 5000,
        "QUERY_STRING": "q=" + "x" * 5000,
        "HTTP_USER_AGENT": "agent " * 1000,
        "HTTP_REFERER": "https://example.invalid/" + "r" * 5000,
        "REMOTE_ADDR": "192.0.2.1",
    }
    AccessLog(_app, logger)(environ, lambda *a: None)
    out = capsys.readouterr().out
    line = json.loads(out)
    assert len(out.encode()) < 4096
    for field in ("path", "query", "user_agent", "referer"):
        assert len(line[field]) == ACCESS_FIELD_MAX and line[field].endswith("…")


def test_a_value_seen_before_is_masked_the_same_way(capsys):
    # The masked values are remembered per process: the second request takes the same path.
    first = _logged(capsys, "/tickets/", "q=010-0000-0002")
    second = _logged(capsys, "/tickets/", "q=010-0000-0002")
    assert first["query"] == second["query"] and "0000-0002" not in second["query"]
    token = "Zz8Zr2mLk0VxYtW3sNaBcDeFgHiJkLmN"
    for _ in range(2):
        line = _logged(capsys, f"/api/v1/integrations/grafana/{token}/")
        assert line["path"] == "/api/v1/integrations/grafana/***/"


def test_under_serve_lines_go_to_the_descriptor_it_kept(monkeypatch):
    """`opsdesk serve` keeps its own standard output before uWSGI routes the workers'
    output through its master; the access log writes there directly."""
    import os

    from opsdesk.jobs.web import ACCESS_LOG_FD_ENV

    read_end, write_end = os.pipe()
    try:
        monkeypatch.setenv(ACCESS_LOG_FD_ENV, str(write_end))
        logger = _fresh_logger()
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "QUERY_STRING": ""}
        AccessLog(_app, logger)(environ, lambda *a: None)
        line = json.loads(os.read(read_end, 65536).decode())
        assert (line["logger"], line["path"], line["status"]) == ("opsdesk.access", "/healthz", 200)
    finally:
        logging.getLogger(ACCESS_LOGGER).handlers.clear()
        os.close(read_end)
        os.close(write_end)
