"""Cursor helpers for API lists: keyset cursors are checked here before they reach a query,
so a forged cursor is a 422 and never a database error."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy

from opsdesk.api.types import MAX_DB_INT
from opsdesk.core.errors import InvalidInput
from opsdesk.core.pagination import decode_cursor

M = TypeVar("M", bound=Model)

_BAD_CURSOR = gettext_lazy("The cursor is not valid; start from the first page.")


def check_time_cursor(cursor: str | None) -> str | None:
    """Validate a (created_at, id) cursor of core.pagination; returns it unchanged."""
    if not cursor:
        return None
    moment, pk = decode_cursor(cursor)
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InvalidInput(str(_BAD_CURSOR), field="cursor") from exc
    if not 0 < pk <= MAX_DB_INT or not 1 < moment.year < 9999:
        raise InvalidInput(str(_BAD_CURSOR), field="cursor")
    return cursor


@dataclass(frozen=True)
class IdPage(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _encode_id(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode_id(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        tag, _, value = text.partition(":")
        if tag != "id" or not value.isdigit():
            raise ValueError(cursor)
        pk = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(str(_BAD_CURSOR), field="cursor") from exc
    if not 0 < pk <= MAX_DB_INT:
        raise InvalidInput(str(_BAD_CURSOR), field="cursor")
    return pk


def paginate_by_id(qs: QuerySet[M], *, cursor: str | None, limit: int) -> IdPage[M]:
    """Oldest first by id: stable under inserts, no OFFSET."""
    if cursor:
        qs = qs.filter(pk__gt=_decode_id(cursor))
    rows = list(qs.order_by("pk")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_id(rows[-1].pk)
    return IdPage(items=rows, next_cursor=next_cursor)
