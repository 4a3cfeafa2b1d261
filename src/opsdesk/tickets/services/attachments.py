"""Files on tickets: content-addressed storage (docs/subsystems/tickets.md)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.tickets.models import Attachment, Ticket, TimelineEvent


def _safe_filename(name: str) -> str:
    """The last path component, without control characters; never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return cleaned[:255] or "attachment"


@transaction.atomic
def ticket_attachment_add(
    *,
    ticket: Ticket,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    event: TimelineEvent | None = None,
    content_id: str = "",
    is_inline: bool = False,
    max_bytes: int | None = None,
) -> Attachment:
    """Store a file on the ticket (content-addressed on disk, so a file sent twice is stored
    once). ``max_bytes`` lets a channel enforce its size limit with a clear error."""
    if event is not None and event.ticket_id != ticket.pk:
        raise InvalidInput(_("The event belongs to another ticket."), field="event")
    if max_bytes is not None and len(content) > max_bytes:
        raise InvalidInput(
            _("The file %(name)s is larger than the limit of %(limit)d bytes.")
            % {"name": filename, "limit": max_bytes},
            field="file",
        )
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        ticket=ticket,
        event=event,
        filename=_safe_filename(filename),
        content_type=(content_type or "application/octet-stream")[:150],
        size=len(content),
        sha256=digest,
        content_id=content_id[:255],
        is_inline=is_inline,
        created_at=now(),
    )
    existing = Attachment.objects.filter(sha256=digest).exclude(file="").first()
    if existing is not None and existing.file.storage.exists(existing.file.name):
        attachment.file.name = existing.file.name
        attachment.save()
    else:
        attachment.file.save(digest, ContentFile(content), save=True)
    return attachment


# --- Appended for the email channel (docs/subsystems/email.md) ----------------------------
