"""Keyset (cursor) pagination over (created_at, id) descending: no OFFSET, so a page deep
in a million-row table costs the same as the first one."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from opsdesk.core.errors import InvalidInput

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def encode_cursor(created_at: datetime, pk: int) -> str:
    raw = f"{created_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        moment = datetime.fromisoformat(stamp)
        key = int(pk)
        # Out-of-range keys would fail inside the database driver instead of here.
        if moment.tzinfo is None or not 0 < key < 2**63:
            raise ValueError("naive time or key out of range")
        return moment, key
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            _("The cursor is not valid; start from the first page."), field="cursor"
        ) from exc


def paginate_newest_first(qs: QuerySet[M], *, cursor: str | None, limit: int) -> Page[M]:
    """Newest first by (created_at, id). ``qs`` must not be sliced or ordered yet."""
    if limit < 1 or limit > 200:
        raise InvalidInput(_("limit must be between 1 and 200."), field="limit")
    if cursor:
        moment, pk = decode_cursor(cursor)
        # The plain range condition is redundant with the OR below but is what lets the
        # database start its index walk at the cursor: with the OR alone, PostgreSQL walked
        # the index from the newest row and filtered (38 ms for a page 90 % deep in a
        # 100k-ticket queue, against 2.6 ms for the first page).
        qs = qs.filter(created_at__lte=moment).filter(
            Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk)
        )
    rows: list[Any] = list(qs.order_by("-created_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.created_at, last.pk)
    return Page(items=rows, next_cursor=next_cursor)


def paginate_soonest_first(
    qs: QuerySet[M], *, field: str, cursor: str | None, limit: int
) -> Page[M]:
    """Ascending by (``field``, id), rows where ``field`` is null left out: "what is due
    first" lists such as an SLA queue."""
    if limit < 1 or limit > 200:
        raise InvalidInput(_("limit must be between 1 and 200."), field="limit")
    qs = qs.filter(**{f"{field}__isnull": False})
    if cursor:
        moment, pk = decode_cursor(cursor)
        qs = qs.filter(**{f"{field}__gte": moment}).filter(
            Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "id__gt": pk})
        )
    rows: list[Any] = list(qs.order_by(field, "id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, field), last.pk)
    return Page(items=rows, next_cursor=next_cursor)
