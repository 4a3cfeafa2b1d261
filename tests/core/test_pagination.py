from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsdesk.core.errors import InvalidInput
from opsdesk.core.pagination import decode_cursor, encode_cursor, paginate_newest_first
from opsdesk.tickets.models import Ticket
from tests.factories import make_org, make_ticket


def test_cursor_round_trip():
    moment = datetime(2026, 11, 28, 4, 30, 15, 123456, tzinfo=UTC)
    cursor = encode_cursor(moment, 4321)
    assert "=" not in cursor
    assert decode_cursor(cursor) == (moment, 4321)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!!",
        "",
        encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), 1)[:-3],
        # well-formed base64 of text without the separator
        "aGVsbG8",
        # a naive datetime is refused
        "MjAyNi0wMS0wMVQwMDowMDowMHwx",
    ],
)
def test_bad_cursor_is_invalid_input(cursor):
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor)
    assert info.value.field == "cursor"


@pytest.mark.django_db
def test_paginate_walks_every_row_once_newest_first():
    org = make_org()
    created = [make_ticket(org).pk for _ in range(5)]
    qs = Ticket.objects.filter(organisation=org)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = paginate_newest_first(qs, cursor=cursor, limit=2)
        seen.extend(t.pk for t in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(created)
    expected = list(qs.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert seen == expected


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [0, 201])
def test_limit_out_of_range(limit):
    with pytest.raises(InvalidInput):
        paginate_newest_first(Ticket.objects.all(), cursor=None, limit=limit)
