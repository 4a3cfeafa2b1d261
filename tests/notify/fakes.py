"""A fake provider on 127.0.0.1: records each request and answers with what a rule returns.

A rule returns ``(status, answer)`` or ``(status, answer, headers)``; ``answer`` is sent as
JSON, or as plain text when it is a ``Text`` (Teams connectors answer "1").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Headers(dict[str, str]):
    """Header names are case-insensitive (RFC 9110), as real providers treat them."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass
class Seen:
    method: str
    path: str
    headers: Headers
    body: bytes


class Text(str):
    """A plain-text answer body."""


Rule = Callable[[Seen], tuple[Any, ...]]


@dataclass
class FakeProvider:
    base_url: str
    requests: list[Seen] = field(default_factory=list)
    rule: Rule | None = None  # for rules with state the test steers


@contextmanager
def fake_provider(rule: Rule) -> Iterator[FakeProvider]:
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Seen(
                "POST", self.path, Headers(self.headers.items()), self.rfile.read(length)
            )
            seen.append(request)
            status, answer, *more = rule(request)
            if isinstance(answer, Text):
                raw, kind = answer.encode(), "text/plain; charset=utf-8"
            else:
                raw, kind = json.dumps(answer).encode(), "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (more[0] if more else {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeProvider(f"http://127.0.0.1:{server.server_address[1]}", seen, rule)
    finally:
        server.shutdown()
        server.server_close()
