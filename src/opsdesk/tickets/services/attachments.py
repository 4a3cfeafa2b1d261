"""Files on tickets: content-addressed storage (docs/subsystems/tickets.md)."""

from __future__ import annotations

import hashlib
from typing import IO

from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.core.rows import row_insert
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
    content: bytes | IO[bytes],
    content_type: str = "application/octet-stream",
    event: TimelineEvent | None = None,
    content_id: str = "",
    is_inline: bool = False,
    max_bytes: int | None = None,
    size: int | None = None,
    sha256: str = "",
) -> Attachment:
    """Store a file on the ticket (content-addressed on disk, so a file sent twice is stored
    once). ``max_bytes`` lets a channel enforce its size limit with a clear error.

    ``content`` is bytes, or an open binary file (a channel's spooled log file) that is
    copied to storage in chunks, never held in memory whole; give its ``size`` and, if
    known, its ``sha256`` to spare a pass over it."""
    if event is not None and event.ticket_id != ticket.pk:
        raise InvalidInput(_("The event belongs to another ticket."), field="event")
    if isinstance(content, bytes):
        size, digest = len(content), sha256 or hashlib.sha256(content).hexdigest()
        body: File[bytes] = ContentFile(content)
    else:
        size, digest = _measure(content, size, sha256)
        body = File(content)
    if max_bytes is not None and size > max_bytes:
        raise InvalidInput(
            _("The file %(name)s is larger than the limit of %(limit)d bytes.")
            % {"name": filename, "limit": max_bytes},
            field="file",
        )
    attachment = Attachment(
        ticket=ticket,
        event=event,
        filename=_safe_filename(filename),
        content_type=(content_type or "application/octet-stream")[:150],
        size=size,
        sha256=digest,
        content_id=content_id[:255],
        is_inline=is_inline,
        created_at=now(),
    )
    stored = _stored_name(digest)
    if stored is not None and attachment.file.storage.exists(stored):
        attachment.file.name = stored
        row_insert(attachment)  # every mailed attachment comes here: written out, core.rows
    else:
        _rewind(content)
        attachment.file.save(digest, body, save=True)
    return attachment


def _stored_name(digest: str) -> str | None:
    """The storage name of a file with this content already on some ticket, if any."""
    quote = connection.ops.quote_name
    file_column = quote(Attachment._meta.get_field("file").column)
    sha_column = quote(Attachment._meta.get_field("sha256").column)
    sql = (
        f"SELECT {file_column} FROM {quote(Attachment._meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {sha_column} = %s AND {file_column} <> '' LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    return str(row[0]) if row is not None else None


def _rewind(content: bytes | IO[bytes]) -> None:
    if not isinstance(content, bytes):
        content.seek(0)


def _measure(stream: IO[bytes], size: int | None, sha256: str) -> tuple[int, str]:
    if size is not None and sha256:
        return size, sha256
    stream.seek(0)
    digest, counted = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        counted += len(chunk)
    return counted, digest.hexdigest()
