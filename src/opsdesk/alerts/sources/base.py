"""What every source adapter shares: the normalised alert, errors and small parsing helpers.

See docs/subsystems/alerts.md ("Sources").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from opsdesk.alerts.enums import AlertSeverity, AlertStatus

SIGNATURE_HEADER = "x-opsdesk-signature"
MAX_TEXT = 255


class SourceError(Exception):
    """The payload is not what this source sends (answered 422 and dead-lettered)."""


class SignatureError(Exception):
    """The payload's signature is missing or wrong (answered 401 and dead-lettered)."""


@dataclass(frozen=True)
class AlertInput:
    """One alert, the same whatever the source."""

    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    severity: str = AlertSeverity.WARNING
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    source_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionRequest:
    """AWS SNS asks us to confirm a subscription (``confirm``) or says it ended
    (``unsubscribe``); never an alert. ``verified``: its signature was checked."""

    topic_arn: str
    subscribe_url: str
    kind: str = "confirm"
    verified: bool = False


@dataclass(frozen=True)
class Inbound:
    """A webhook call as the adapters see it: raw body, its JSON, lower-cased headers and
    the integration settings the source needs."""

    body: bytes
    data: Any
    headers: Mapping[str, str]
    field_mapping: Mapping[str, Any] = field(default_factory=dict)
    hmac_secret: str = ""
    verify_signature: bool = True


@dataclass
class Parsed:
    alerts: list[AlertInput] = field(default_factory=list)
    subscription: SubscriptionRequest | None = None


class Adapter(Protocol):
    def authenticate(self, inbound: Inbound) -> None: ...

    def parse(self, inbound: Inbound) -> Parsed: ...


class BaseAdapter:
    """Default authentication: an HMAC-SHA256 of the body when the integration has a secret."""

    def authenticate(self, inbound: Inbound) -> None:
        if inbound.hmac_secret:
            hmac_verify(inbound)

    def parse(self, inbound: Inbound) -> Parsed:
        raise NotImplementedError


def hmac_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_verify(inbound: Inbound) -> None:
    given = inbound.headers.get(SIGNATURE_HEADER, "").strip()
    given = given.removeprefix("sha256=")
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(given.lower(), hmac_signature(inbound.hmac_secret, inbound.body)):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable fingerprint for sources that send none: the hash of the sorted labels."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text or epoch seconds/milliseconds → aware UTC; zero times → None."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000
        return datetime.fromtimestamp(number, tz=UTC)
    if not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SourceError(f"not a time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_SEVERITY_WORDS: dict[str, str] = {
    word: AlertSeverity.CRITICAL
    for word in [
        "critical",
        "crit",
        "disaster",
        "fatal",
        "emergency",
        "alert",
        "error",
        "high",
        "severe",
        "major",
        "page",
        "p1",
        "sev0",
        "sev1",
        "5",
        "4",
    ]
}
_SEVERITY_WORDS.update(
    {
        word: AlertSeverity.INFO
        for word in [
            "info",
            "information",
            "informational",
            "low",
            "notice",
            "ok",
            "none",
            "p4",
            "p5",
            "sev3",
            "sev4",
            "verbose",
            "0",
            "1",
        ]
    }
)
_SEVERITY_WORDS["not classified"] = AlertSeverity.INFO


def severity_normalise(value: Any) -> str:
    """critical / warning / info from the many words sources use; unknown words → warning."""
    word = str(value or "").strip().lower()
    return _SEVERITY_WORDS.get(word, AlertSeverity.WARNING)


def str_dict(value: Any) -> dict[str, str]:
    """Labels and annotations as str → str (sources sometimes send numbers or nulls)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def require_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SourceError(f"{what} must be a JSON object")
    return value


def require_text(data: Mapping[str, Any], key: str, what: str = "") -> str:
    value = data.get(key)
    if value in (None, "") or isinstance(value, dict | list):
        raise SourceError(f"missing field {what or key!r}")
    return str(value)


def status_from(value: Any, table: Mapping[str, str], what: str) -> str:
    """Map a source's state word to firing / resolved / unknown; anything else is an error."""
    word = str(value or "").strip().lower()
    if word not in table:
        raise SourceError(f"unknown {what} {value!r}")
    return table[word]


def clip(text: Any, limit: int = MAX_TEXT) -> str:
    value = "" if text is None else str(text).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


FIRING, RESOLVED, UNKNOWN = AlertStatus.FIRING, AlertStatus.RESOLVED, AlertStatus.UNKNOWN
