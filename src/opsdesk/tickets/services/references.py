"""Public ticket references such as CSR-2026-000123: per prefix, per local year, increasing.

See docs/subsystems/tickets.md ("References"). Two ways to count, by database:

- **SQLite**: the ``ReferenceSequence`` row of the prefix and year, bumped by one
  ``UPDATE … RETURNING`` in the caller's transaction. SQLite has one writer at a time anyway,
  and a rolled-back ticket gives its number back.
- **PostgreSQL**: a sequence per prefix and year (``tickets_ref_csr_2026``). A counter row
  stays locked until its transaction commits, including the commit's flush to disk, so every
  new ticket of a kind waited for the one before it (measured: +6–12 % creates/s with a
  sequence, 2 web workers). ``nextval`` holds no lock; the price is that a ticket whose
  transaction rolls back leaves a gap in the numbers, as in most service desks.

A process makes sure the year's sequence exists the first time it needs it, on a second
connection of its own: DDL inside the caller's transaction would lock the catalogue until
that commits, and two transactions creating the same sequence at once can fail. A new
sequence starts above the counter row's ``last_value``, so numbering carries on after an
upgrade or a bulk load (``reference_counters_sync``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Model

from opsdesk.core.rows import ids_next, pk_sequence
from opsdesk.tickets.enums import TicketKind
from opsdesk.tickets.models import ReferenceSequence

REFERENCE_PREFIX = {TicketKind.CSR: "CSR", TicketKind.INCIDENT: "INC"}

# (database alias, sequence name) this process has made sure of.
_ready: set[tuple[str, str]] = set()


def reference_next(*, kind: str, at: datetime) -> str:
    """Next public reference, e.g. CSR-2026-000123; the year is the support centre's local
    year."""
    return reference_and_ids(kind=kind, at=at)[0]


def reference_and_ids(
    *,
    kind: str,
    at: datetime,
    models: Sequence[type[Model]] = (),
    drawn: Sequence[int] | None = None,
) -> tuple[str, list[int] | None]:
    """:func:`reference_next`, and on PostgreSQL the next primary key of each of ``models``
    drawn in the same statement (``core.rows.ids_next``; None on SQLite), so that a new
    ticket and its first rows can go out as one INSERT (``core.rows.inserts_together``).
    ``drawn``: those values, drawn already by another statement in the order
    :func:`reference_draw_names` gives."""
    prefix = REFERENCE_PREFIX[TicketKind(kind)]
    year = _local_year(at)
    ids: list[int] | None = None
    if connection.vendor == "postgresql":
        if drawn is None:
            drawn = ids_next((), also=reference_draw_names(kind=kind, at=at, models=models))
            assert drawn is not None  # noqa: S101 - PostgreSQL draws
        *ids, value = drawn
    else:
        value = _row_next(prefix, year)
    return f"{prefix}-{year}-{value:06d}", ids


def reference_draw_names(
    *, kind: str, at: datetime, models: Sequence[type[Model]] = ()
) -> list[str]:
    """The sequences :func:`reference_and_ids` draws from, for drawing them ahead with
    another statement (``core.rows.draws_ahead``); the year's sequence is made sure of
    first. Empty on SQLite, whose references count on a row."""
    if connection.vendor != "postgresql":
        return []
    prefix = REFERENCE_PREFIX[TicketKind(kind)]
    year = _local_year(at)
    name = sequence_name(prefix, year)
    if (connection.alias, name) not in _ready:
        _sequence_ensure(prefix, year)
    return [pk_sequence(model) for model in models] + [name]


def _local_year(at: datetime) -> int:
    return at.astimezone(ZoneInfo(settings.TIME_ZONE)).year


def _row_next(prefix: str, year: int) -> int:
    table = connection.ops.quote_name(ReferenceSequence._meta.db_table)
    # One statement instead of UPDATE + SELECT: the ORM's update() cannot return the value.
    sql = (
        f"UPDATE {table} SET last_value = last_value + 1 "  # noqa: S608 - table name from the model
        "WHERE prefix = %s AND year = %s RETURNING last_value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, year])
        row = cursor.fetchone()
        if row is None:
            ReferenceSequence.objects.get_or_create(prefix=prefix, year=year)
            cursor.execute(sql, [prefix, year])
            row = cursor.fetchone()
    return int(row[0])


def sequence_name(prefix: str, year: int) -> str:
    return f"tickets_ref_{prefix.lower()}_{year}"


def _sequence_ensure(prefix: str, year: int) -> None:
    """Create the sequence of ``prefix`` and ``year`` if missing and move it past the counter
    row's ``last_value``; on a connection of its own, committed at once."""
    name = sequence_name(prefix, year)
    quoted = connection.ops.quote_name(name)
    table = connection.ops.quote_name(ReferenceSequence._meta.db_table)
    side = connection.copy()
    try:
        for attempt in (1, 2):
            try:
                with side.cursor() as cursor:
                    cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {quoted} AS bigint MINVALUE 1")
                break
            except DatabaseError:
                # Another process created it at the same moment (a unique violation in the
                # catalogue): it exists now.
                if attempt == 2:
                    raise
        with side.cursor() as cursor:
            cursor.execute("BEGIN")
            # One process at a time compares and moves it: two moving it at once could set
            # it back below a number the first had already handed out.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
            cursor.execute(
                f"SELECT (SELECT COALESCE(MAX(last_value), 0) FROM {table} "  # noqa: S608 - names from the model
                "WHERE prefix = %s AND year = %s), "
                f"CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {quoted}",
                [prefix, year],
            )
            floor, used = cursor.fetchone()
            if floor > used:
                cursor.execute("SELECT setval(%s::regclass, %s, true)", [name, floor])
            cursor.execute("COMMIT")
    finally:
        side.close()
    _ready.add((connection.alias, name))


def reference_counters_sync() -> None:
    """After rows were written without ``reference_next`` (a bulk load): move every
    year's sequence past its counter row. Nothing to do on SQLite."""
    if connection.vendor != "postgresql":
        return
    for prefix, year in ReferenceSequence.objects.values_list("prefix", "year"):
        _sequence_ensure(prefix, year)
