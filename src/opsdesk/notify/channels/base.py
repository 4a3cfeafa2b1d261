"""The channel interface: ``send(address, message) -> DeliveryResult``."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    url: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    provider_id: str = ""
    error: str = ""
    # False for errors a retry cannot fix (bad number, bad credentials).
    retryable: bool = True


class Channel(Protocol):
    name: str

    def send(self, address: str, message: Message) -> DeliveryResult: ...


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any


TIMEOUT_SECONDS = 10


def http_request(
    *, method: str, url: str, headers: dict[str, str], data: bytes | None
) -> HttpAnswer:
    """One HTTP call; the provider's error answers come back as answers, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return HttpAnswer(response.status, _decode(response.read()))
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, _decode(exc.read()))
    except (urllib.error.URLError, OSError) as exc:  # unreachable: status 0, worth a retry
        return HttpAnswer(0, {"error": f"{exc.__class__.__name__}: {exc}"})


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def retryable_status(status: int) -> bool:
    return status in (0, 429) or status >= 500
