"""Typed access to the email channel's settings (OPSDESK dict); see docs/subsystems/email.md."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _value(name: str) -> Any:
    return settings.OPSDESK[name]


def _optional(name: str, default: Any) -> Any:
    """A setting added after the settings module knew it (an older settings file)."""
    values: dict[str, Any] = settings.OPSDESK
    return values.get(name, default)


def support_address() -> str:
    return str(_value("SUPPORT_EMAIL"))


def max_attachment_bytes() -> int:
    return int(_value("EMAIL_MAX_ATTACHMENT_BYTES"))


def max_message_bytes() -> int:
    """A whole raw mail above this keeps its body but none of its attachments (and the
    LMTP/SMTP receiver refuses mail above twice this size)."""
    return int(_optional("EMAIL_MAX_MESSAGE_BYTES", 50 * 1024 * 1024))


def reopen_days() -> int:
    return int(_value("EMAIL_REOPEN_DAYS"))


def unknown_sender_policy() -> str:
    return str(_value("EMAIL_UNKNOWN_SENDER"))


def unknown_organisation_code() -> str:
    return str(_value("EMAIL_UNKNOWN_ORGANISATION"))


def rate_limit_per_hour() -> int:
    return int(_value("EMAIL_RATE_LIMIT_PER_HOUR"))


def send_max_attempts() -> int:
    return int(_value("EMAIL_SEND_MAX_ATTEMPTS"))


def own_addresses_configured() -> list[str]:
    return [str(a) for a in settings.OPSDESK.get("EMAIL_OWN_ADDRESSES") or []]  # type: ignore[attr-defined]


def message_id_domain_configured() -> str:
    return str(settings.OPSDESK.get("EMAIL_MESSAGE_ID_DOMAIN", ""))


def site_name() -> str:
    return str(_value("SITE_NAME"))
