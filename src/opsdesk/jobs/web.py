"""`opsdesk serve`: uWSGI with preforked workers, run in this process (the ``pyuwsgi``
package), and the server's access log. See docs/subsystems/jobs.md and decision 0009.

Why uWSGI: its HTTP handling is C. Under gunicorn's sync workers (Python HTTP parsing, a
heartbeat file touched, accept and close per request) the server was about half of a
monitoring repeat's CPU; with uWSGI a repeat took 0.64 instead of 0.92 ms of worker CPU and
an API ticket create 2.6 instead of 3.0 ms (decision 0009). Static files are served by
WhiteNoise from the installed package (WHITENOISE_USE_FINDERS), so there is no collectstatic
copy that can go stale after an upgrade.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings

from opsdesk.core.logging import log_line, mask_text_quick
from opsdesk.core.masking import path_secrets_masked

ACCESS_LOGGER = "opsdesk.access"
# The descriptor of `opsdesk serve`'s own standard output, kept before uWSGI sends the
# workers' output through its master (run_web_server): the access log writes there.
ACCESS_LOG_FD_ENV = "OPSDESK_ACCESS_LOG_FD"
# Each masked field of an access line is cut to this many characters, so that a line stays
# below PIPE_BUF (4 KiB) and lands whole even where several workers share a pipe.
ACCESS_FIELD_MAX = 800

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _PreformattedLine(logging.Formatter):
    """The access line is built (and masked) by ``AccessLog`` itself."""

    def format(self, record: logging.LogRecord) -> str:
        return str(record.msg)


class _AccessHandler(logging.StreamHandler[TextIO]):
    """The access log's own handler: ``AccessLog`` hands it ready lines without a log
    record (building one took a fifth of the line's cost) when it is the logger's only
    handler and the logger has no filter."""

    def write_line(self, line: str) -> None:
        self.acquire()
        try:
            self.stream.write(line + self.terminator)
            self.flush()
        finally:
            self.release()


def access_logger_setup() -> logging.Logger:
    """One JSON line per request on stdout, whatever ``OPSDESK_LOG_LEVEL`` says (as a web
    server's access log is), not through the root logger's filter and formatter.

    Under `opsdesk serve` the lines go to the server's own standard output directly
    (``ACCESS_LOG_FD_ENV``): through uWSGI's master, which reads, routes and writes every
    line once more, a monitoring repeat cost about a sixth more (measured with the log
    on and off)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = _AccessHandler(_server_stdout() or sys.stdout)
        handler.setFormatter(_PreformattedLine())
        logger.addHandler(handler)
    return logger


def _server_stdout() -> TextIO | None:
    fd = os.environ.get(ACCESS_LOG_FD_ENV, "")
    if not fd.isdigit():
        return None
    try:
        # Line-buffered: one write per line, which a pipe keeps whole (see ACCESS_FIELD_MAX).
        return open(int(fd), "w", encoding="utf-8", buffering=1, closefd=False)
    except OSError:
        return None


class AccessLog:
    """WSGI middleware writing one access line per request when the application has
    answered: its time to the response headers and the ``Content-Length`` it declared (0 for
    a streamed body). The body is not wrapped, so the server still sends files itself.

    The hot path (one per request): the line is one flat ``json.dumps`` with the same keys
    as ``JsonFormatter`` writes, handed to the handlers ready; a log record through the
    filter and the formatter masked every field twice and looked up the caller's frame.
    Path, query string, referer and user agent are masked (a search for a caller's number
    must not leave the number in the log), and so are the secrets some paths carry; the
    client address is kept for abuse handling."""

    def __init__(self, app: WsgiApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self.logger.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        answer: list[Any] = ["-", 0]

        def recording(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            answer[0] = status
            for name, value in headers:
                if name.lower() == "content-length" and value.isdigit():
                    answer[1] = int(value)
            return start_response(status, headers, *exc)

        try:
            return self.app(environ, recording)
        finally:
            self.write(environ, answer[0], answer[1], time.perf_counter() - started)

    def write(self, environ: dict[str, Any], status: Any, sent: int, seconds: float) -> None:
        try:
            line = access_line(
                logger=self.logger.name, status=status, sent=sent, environ=environ, seconds=seconds
            )
            handlers = self.logger.handlers
            if (
                len(handlers) == 1
                and type(handlers[0]) is _AccessHandler
                and not self.logger.filters
            ):
                handlers[0].write_line(line)
                return
            record = logging.LogRecord(
                self.logger.name, logging.INFO, __file__, 0, line, None, None
            )
            self.logger.handle(record)
        except Exception:
            logging.getLogger("opsdesk.jobs.web").exception("could not write the access log")


def access_line(
    *, logger: str, status: Any, sent: int, environ: dict[str, Any], seconds: float
) -> str:
    """One access-log line: ``JsonFormatter``'s keys (ts, level, logger, msg) and the
    request's fields, personal data and path secrets masked."""
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    return log_line(
        logger=logger,
        level="INFO",
        msg="request",
        fields={
            "remote_addr": _masked(environ.get("REMOTE_ADDR", "-")),
            "method": _masked(environ.get("REQUEST_METHOD", "-")),
            "path": _masked(environ.get("PATH_INFO", ""), path=True),
            "query": _masked(environ.get("QUERY_STRING", "")),
            "status": int(status) if str(status).isdigit() else str(status),
            "bytes": sent,
            "duration_ms": round(seconds * 1000, 2),
            "user_agent": _masked(environ.get("HTTP_USER_AGENT", "")),
            "referer": _masked(environ.get("HTTP_REFERER", "")),
        },
    )


# Masked field values by (is a path, raw value): a server sees the same few addresses,
# paths and agents again and again (a monitoring system's webhook above all), and masking
# one took several regular expressions. Emptied when full, so it stays small.
_MASKED: dict[tuple[bool, str], str] = {}
_MASKED_MAX = 4096


def _masked(value: Any, *, path: bool = False) -> str:
    text = str(value)
    if not text:
        return text
    key = (path, text)
    masked = _MASKED.get(key)
    if masked is None:
        masked = mask_text_quick(path_secrets_masked(text) if path else text)
        if len(masked) > ACCESS_FIELD_MAX:
            masked = masked[: ACCESS_FIELD_MAX - 1] + "…"
        if len(_MASKED) >= _MASKED_MAX:
            _MASKED.clear()
        _MASKED[key] = masked
    return masked


# Megabytes of resident memory after which a worker is replaced (a worker serving the
# API measured about 95 MB).
RELOAD_ON_RSS_MB = 512


def server_args(
    *,
    bind: str,
    workers: int,
    module: str = "opsdesk.jobs.wsgi:application",
    timeout: int = 30,
    reload_on_rss_mb: int = RELOAD_ON_RSS_MB,
) -> list[str]:
    """uWSGI's command line for ``opsdesk serve``."""
    host, _, port = bind.rpartition(":")
    return [
        # Its own messages as JSON lines like everything else OpsDesk writes; lines that are
        # JSON already (Django's logs, the access log) pass as they are.
        "--logger",
        "app stdio",
        "--log-route",
        r"app ^\{",
        "--logger",
        "server stdio",
        "--log-route",
        r"server ^[^{]",
        "--log-encoder",
        "format:app ${msg}",
        "--log-encoder",
        "nl:app",
        "--log-encoder",
        'json:server {"ts": "${strftime:%Y-%m-%dT%H:%M:%S%z}", "level": "INFO", '
        '"logger": "uwsgi", "msg": "${msg}"}',
        "--log-encoder",
        "nl:server",
        "--strict",
        "--master",
        "--http-socket",
        f"{host or '0.0.0.0'}:{port}",  # noqa: S104 - what the operator asked for
        "--processes",
        str(workers),
        # The application is imported once in the master and forked, so workers start at
        # once and share WhiteNoise's file index; nothing opens a database connection at
        # import time.
        "--module",
        module,
        "--need-app",
        "--single-interpreter",
        # One worker at a time waits in accept(), not all of them woken for each connection.
        "--thunder-lock",
        # SIGTERM stops gracefully: requests in progress finish (up to the mercy below).
        "--die-on-term",
        "--hook-master-start",
        "unix_signal:15 gracefully_kill_them_all",
        "--worker-reload-mercy",
        "20",
        "--reload-mercy",
        "20",
        # A request running longer than this is killed, its worker replaced.
        "--harakiri",
        str(timeout),
        # A worker that has grown past this is replaced after its request: the bound on a
        # slow leak. Not a request count: uWSGI's master replaces a recycled worker only at
        # its next check (1–2 s), and workers sharing a steady load reach a count together,
        # which left the server with no worker for that long (measured: p99 0.9–1.1 s).
        "--reload-on-rss",
        str(reload_on_rss_mb),
        # Headers up to 64 KiB (large cookies); the default 4 KiB refuses them.
        "--buffer-size",
        "65535",
        # One request per connection, said out loud: without the header an HTTP/1.1 client
        # would send its next request on a connection the worker has closed. (Keep-alive
        # would tie a worker to an idle browser connection; it measured no faster here.)
        "--add-header",
        "Connection: close",
        # uWSGI's own request log is off: AccessLog writes a masked line instead.
        "--disable-logging",
        # A client that hangs up early is not the server's error.
        "--ignore-sigpipe",
        "--ignore-write-errors",
        "--disable-write-exception",
    ]


def bind_in_use(bind: str) -> bool:
    """True when something already listens on ``host:port`` (a quick, clear error for
    `opsdesk run` instead of the server retrying). Unix sockets and odd forms: False."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        return False
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - only probing, not serving
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError:
            return True
    return False


def run_web_server(*, bind: str, workers: int) -> None:
    """Serve until stopped; uWSGI takes over this process (its master)."""
    import pyuwsgi  # only the server process needs it

    # WhiteNoise also indexes STATIC_ROOT; an empty one avoids a warning at every start.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    logging.getLogger("opsdesk.jobs.web").info(
        "web server starting", extra={"bind": bind, "workers": workers}
    )
    # The workers inherit this descriptor (fork, or exec on a reload: inheritable).
    kept = os.dup(sys.stdout.fileno())
    os.set_inheritable(kept, True)
    os.environ[ACCESS_LOG_FD_ENV] = str(kept)
    pyuwsgi.run(server_args(bind=bind, workers=workers))
