"""Value types of the email parsing layer (no database models); see docs/subsystems/email.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opsdesk.intake.email.spool import SpooledPayload

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
    size: int  # decoded size, also when the bytes were not kept (over the part limit)
    content_id: str | None
    is_inline: bool
    # Small parts are in memory (``content``); large ones were decoded in chunks into a
    # temporary file by spool.py (``spooled``). Read through ``payload``/``head``/``read``.
    content: bytes = field(default=b"", repr=False)
    spooled: SpooledPayload | None = field(default=None, repr=False)
    # Set on the files that came out of an attached Outlook .msg: that attachment's name.
    enclosed_in: str | None = None

    @property
    def payload(self) -> bytes:
        """The whole decoded content (read from the spool file when spooled)."""
        return self.spooled.read() if self.spooled is not None else self.content

    @property
    def complete(self) -> bool:
        """False when the part was over the size limit and its bytes were not kept."""
        return self.spooled is None or self.spooled.complete

    def head(self, count: int) -> bytes:
        return self.spooled.head(count) if self.spooled is not None else self.content[:count]

    def close(self) -> None:
        if self.spooled is not None:
            self.spooled.close()


@dataclass(frozen=True, slots=True)
class EnclosedMessage:
    """An Outlook .msg attached to the mail, opened: shown with the mail's own text, its
    files added to the mail's attachments (``enclosed_in`` names the .msg)."""

    filename: str
    subject: str
    from_address: str | None
    from_name: str
    date: datetime | None
    text_body: str
    attachment_names: tuple[str, ...] = ()


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
    enclosed: tuple[EnclosedMessage, ...] = ()  # attached Outlook messages, opened

    @property
    def attachment_names(self) -> list[str]:
        return [a.filename for a in self.attachments]

    def close(self) -> None:
        """Delete the temporary files of spooled attachments (also done on garbage collection)."""
        for attachment in self.attachments:
            attachment.close()
