"""Value types of the email parsing layer (no database models); see docs/subsystems/email.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Address = tuple[str, str]  # (decoded display name, lower-cased addr-spec)


class UnparseableMessage(Exception):
    """Raised only for hopeless input (empty, no header block, unreadable Outlook .msg).

    The caller still holds the raw bytes and quarantines them with ``reason``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    content_id: str | None
    is_inline: bool
    # Whole payload in memory for now. Streaming hook: the walker in parsing.py
    # (_add_attachment) is the single place where a part's decoded bytes are produced; a later
    # version hands it a sink (temp file / storage writer) above the configured size limit.
    payload: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class InterestingHeaders:
    auto_submitted: str | None = None
    precedence: str | None = None
    x_autoreply: str | None = None
    x_autorespond: str | None = None
    x_auto_response_suppress: str | None = None
    list_id: str | None = None
    list_unsubscribe: str | None = None
    return_path: str | None = None
    content_type: str | None = None
    report_type: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str | None
    from_name: str
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    text_body: str
    html_body_sanitised: str | None
    attachments: tuple[ParsedAttachment, ...]
    headers: InterestingHeaders
    # Machine-readable report parts (RFC 3464 / 5965 / 8098), as text, for classify().
    delivery_status: str | None = None
    feedback_report: str | None = None
    disposition_notification: str | None = None
    defects: tuple[str, ...] = ()
    source_format: str = "rfc822"  # or "outlook-msg" when converted from an OLE2 .msg

    @property
    def attachment_names(self) -> list[str]:
        return [a.filename for a in self.attachments]
