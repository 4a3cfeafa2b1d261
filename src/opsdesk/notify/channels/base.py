"""The channel interface: ``send(address, message) -> DeliveryResult``."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message as HeaderBlock
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    url: str = ""
    # Stable per delivery ("delivery-42"): providers with idempotency keys use it, so a retry
    # after a lost answer does not send twice.
    key: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    provider_id: str = ""
    error: str = ""
    # False for errors a retry cannot fix (bad number, bad credentials).
    retryable: bool = True
    # Seconds the provider asked us to wait (HTTP Retry-After); 0 when it did not say.
    retry_after: float = 0


class Channel(Protocol):
    name: str

    def send(self, address: str, message: Message) -> DeliveryResult: ...


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any
    # Response headers with lower-case names.
    headers: dict[str, str] = field(default_factory=dict)


TIMEOUT_SECONDS = 10


def http_request(
    *, method: str, url: str, headers: dict[str, str], data: bytes | None
) -> HttpAnswer:
    """One HTTP call; the provider's error answers come back as answers, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return HttpAnswer(response.status, _decode(response.read()), _headers(response.headers))
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, _decode(exc.read()), _headers(exc.headers))
    except (urllib.error.URLError, OSError) as exc:  # unreachable: status 0, worth a retry
        return HttpAnswer(0, {"error": f"{exc.__class__.__name__}: {exc}"})


def _headers(block: HeaderBlock | None) -> dict[str, str]:
    return {k.lower(): v for k, v in block.items()} if block is not None else {}


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def retryable_status(status: int) -> bool:
    return status in (0, 429) or status >= 500


def retry_after_seconds(answer: HttpAnswer) -> float:
    """The provider's Retry-After in seconds (the HTTP-date form is rare for APIs; ignored)."""
    raw = answer.headers.get("retry-after", "").strip()
    return float(raw) if raw.isdigit() else 0
