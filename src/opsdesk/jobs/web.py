"""`opsdesk serve`: gunicorn with sync workers, run through gunicorn's Python API.

See docs/subsystems/jobs.md. Sync workers because a Django view measured ~7,400 req/s
under gunicorn with 2 sync workers against ~1,050 under uvicorn on our 2-core machines.
Static files are served by WhiteNoise from the installed package (WHITENOISE_USE_FINDERS),
so there is no collectstatic copy that can go stale after an upgrade.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from opsdesk.core.logging import JsonFormatter, MaskPersonalDataFilter, log_line, mask_text_quick
from opsdesk.core.masking import path_secrets_masked


class _PreformattedLine(logging.Formatter):
    """The access line is built (and masked) by ``JsonAccessLogger.access`` itself."""

    def format(self, record: logging.LogRecord) -> str:
        return str(record.msg)


class JsonAccessLogger(Logger):
    """gunicorn's logger with one JSON line per request and per server message.

    Path, query string, referer and user agent are masked (a search for a caller's number
    must not leave the number in the log), and so are the secrets some paths carry; the
    client address is kept for abuse handling.

    The access line is the hot path (one per request; ~15 % of a monitoring repeat when it
    went through the logging filter and ``JsonFormatter``, which masked every field twice and
    looked up the caller's frame): it is built here as one flat ``json.dumps`` with the same
    keys as ``JsonFormatter`` writes and handed to the handlers as a ready line.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
            handler.addFilter(MaskPersonalDataFilter())
        for handler in self.access_log.handlers:
            handler.setFormatter(_PreformattedLine())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled or not self.access_log.isEnabledFor(logging.INFO):
            return
        try:
            line = access_line(
                logger=self.access_log.name,
                status=resp.status,
                sent=getattr(resp, "sent", None) or 0,
                environ=environ,
                seconds=request_time.total_seconds(),
            )
            record = logging.LogRecord(
                self.access_log.name, logging.INFO, __file__, 0, line, None, None
            )
            self.access_log.handle(record)
        except Exception:
            self.error_log.exception("could not write the access log")


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
            "path": _masked(path_secrets_masked(environ.get("PATH_INFO", ""))),
            "query": _masked(environ.get("QUERY_STRING", "")),
            "status": int(status) if str(status).isdigit() else str(status),
            "bytes": sent,
            "duration_ms": round(seconds * 1000, 2),
            "user_agent": _masked(environ.get("HTTP_USER_AGENT", "")),
            "referer": _masked(environ.get("HTTP_REFERER", "")),
        },
    )


def _masked(value: Any) -> str:
    return mask_text_quick(str(value))


# Settings that only newer gunicorn releases know.
_OPTIONAL = {"control_socket_disable"}


class WebServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in _OPTIONAL and key not in self.cfg.settings:
                continue  # an older gunicorn without this setting
            self.cfg.set(key, value)

    def load(self) -> Any:
        return get_wsgi_application()


def server_options(*, bind: str, workers: int, timeout: int = 30) -> dict[str, Any]:
    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 2,
        # The application is imported once in the master and forked, so workers start
        # at once and share WhiteNoise's file index; nothing opens a database connection
        # at import time.
        "preload_app": True,
        # Recycle workers now and then to bound slow leaks; jitter avoids all at once.
        "max_requests": 5000,
        "max_requests_jitter": 500,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": JsonAccessLogger,
        "proc_name": "opsdesk-web",
        # gunicorn >= 25 opens one control socket per user by default; two servers on one
        # machine (tests, CI, a second site) would fight over it.
        "control_socket_disable": True,
    }


def bind_in_use(bind: str) -> bool:
    """True when something already listens on ``host:port`` (a quick, clear error for
    `opsdesk run` instead of gunicorn retrying). Unix sockets and odd forms: False."""
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
    # WhiteNoise also indexes STATIC_ROOT; an empty one avoids a warning at every start.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    logging.getLogger("opsdesk.jobs.web").info(
        "web server starting", extra={"bind": bind, "workers": workers}
    )
    WebServer(server_options(bind=bind, workers=workers)).run()
