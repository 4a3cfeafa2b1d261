"""Durable timers: schedule, claim, run, retry, recover. See docs/subsystems/jobs.md.

Handlers live with their domain and register here by kind (``@timer_handler("sla.warning")``)
from their app's ``ready()``; this module imports nothing of theirs. A handler receives the
timer row and must be idempotent: a timer can run twice if a worker dies after the handler
committed and before the row was marked done.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field

from opsdesk.core.clock import now
from opsdesk.core.rows import insert_values, statement_defer
from opsdesk.jobs.models import Timer, TimerState

logger = logging.getLogger("opsdesk.jobs.timers")

Handler = Callable[[Timer], None]
_HANDLERS: dict[str, Handler] = {}

# A claimed timer whose worker has not finished it within the lease is taken back: a killed
# worker's step fires on another worker within LEASE plus one tick.
LEASE = timedelta(seconds=20)
MAX_ATTEMPTS = 5
BATCH = 50


def timer_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not handler:
            raise ValueError(f"a handler for timer kind {kind!r} is registered already")
        _HANDLERS[kind] = handler
        return handler

    return register


@timer_handler("jobs.noop")
def noop_timer(timer: Timer) -> None:
    """Does nothing: the timer machinery's own cost, the baseline of bench/escalation.py."""


_RESET_FIELDS = [
    "kind",
    "due_at",
    "state",
    "token",
    "payload",
    "attempts",
    "last_error",
    "claimed_by",
    "claimed_at",
    "finished_at",
]


def timer_schedule(
    *, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> Timer:
    """Create or move the live timer ``key``. Moving it gives it a new token.

    One INSERT … ON CONFLICT (key) DO UPDATE … RETURNING statement (SQLite 3.35+ and
    PostgreSQL alike): update_or_create took a row lock, a savepoint and two more round
    trips, and every ticket write that moves an SLA deadline schedules two timers."""
    return timers_schedule([TimerSpec(key=key, kind=kind, due_at=due_at, payload=payload)])[0]


@dataclass(frozen=True)
class TimerSpec:
    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any] | None = None


_INSERT_FIELDS = ["key", *_RESET_FIELDS, "created_at"]


@cache
def _insert_fields() -> list[Field[Any, Any]]:
    by_name = {field.name: field for field in Timer._meta.concrete_fields}
    return [by_name[name] for name in _INSERT_FIELDS]


def _upsert_sql(rows: int) -> str:
    return _upsert_sql_built(connection.vendor, rows)


@lru_cache(maxsize=16)
def _upsert_sql_built(vendor: str, rows: int) -> str:
    # Written out rather than bulk_create(update_conflicts=True): it runs for nearly every
    # ticket write and alert, and the ORM spent several times the statement's own cost
    # building it. Values go through each field's get_db_prep_save, as the ORM's would.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _insert_fields())
    one = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in _RESET_FIELDS)
    return (
        f"INSERT INTO {quote(Timer._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"VALUES {', '.join([one] * rows)} "
        f"ON CONFLICT ({quote('key')}) DO UPDATE SET {updates}"
    )


def timers_schedule(specs: Sequence[TimerSpec]) -> list[Timer]:
    """:func:`timer_schedule` for several timers in one statement (distinct keys).

    Inside ``core.rows.inserts_together`` the statement is only queued and the timers come
    back without their primary keys."""
    created = now()
    timers = [
        Timer(
            key=spec.key,
            kind=spec.kind,
            due_at=spec.due_at,
            state=TimerState.PENDING,
            token=secrets.token_hex(8),
            payload=spec.payload or {},
            attempts=0,
            last_error="",
            claimed_by="",
            claimed_at=None,
            finished_at=None,
            created_at=created,
        )
        for spec in specs
    ]
    if not timers:
        return timers
    fields = _insert_fields()
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: see core.rows.RowReader.instances
    params = [value for timer in timers for value in insert_values(timer, fields)]
    sql = _upsert_sql(len(timers))
    if statement_defer(sql, params):
        return timers
    with conn.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING id, {connection.ops.quote_name('key')}", params)
        ids = {key: pk for pk, key in cursor.fetchall()}
    for timer in timers:
        timer.pk = ids[timer.key]
        timer._state.adding = False
    return timers


def timer_cancel(*, key: str) -> int:
    return Timer.objects.filter(key=key, state__in=[TimerState.PENDING]).update(
        state=TimerState.CANCELLED, finished_at=now()
    )


def _claim(*, worker_id: str, limit: int) -> list[Timer]:
    moment = now()
    with transaction.atomic():
        due = list(
            Timer.objects.select_for_update(skip_locked=True)
            .filter(state=TimerState.PENDING, due_at__lte=moment)
            .order_by("due_at", "id")[:limit]
        )
        ids = [t.pk for t in due]
        Timer.objects.filter(pk__in=ids).update(
            state=TimerState.RUNNING, claimed_by=worker_id, claimed_at=moment
        )
    return due


def _finish(timer: Timer, *, error: str = "") -> None:
    """Mark the run's outcome unless the timer was rescheduled while it ran."""
    moment = now()
    current = Timer.objects.filter(pk=timer.pk, token=timer.token, state=TimerState.RUNNING)
    if not error:
        current.update(state=TimerState.DONE, finished_at=moment)
        return
    attempts = timer.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        current.update(
            state=TimerState.FAILED, attempts=attempts, last_error=error, finished_at=moment
        )
        return
    backoff = timedelta(seconds=min(300, 5 * 2**attempts))
    current.update(
        state=TimerState.PENDING,
        attempts=attempts,
        last_error=error,
        due_at=moment + backoff,
        claimed_by="",
        claimed_at=None,
    )


def _run_one(timer: Timer) -> None:
    handler = _HANDLERS.get(timer.kind)
    if handler is None:
        _finish(timer, error=f"no handler registered for kind {timer.kind!r}")
        return
    try:
        with transaction.atomic():
            handler(timer)
    except Exception as exc:
        logger.exception("timer failed", extra={"timer": timer.key, "kind": timer.kind})
        _finish(timer, error=f"{exc.__class__.__name__}: {exc}"[:2000])
    else:
        _finish(timer)


def timers_recover() -> int:
    """Give back timers whose worker died mid-run (claim older than the lease)."""
    return Timer.objects.filter(state=TimerState.RUNNING, claimed_at__lt=now() - LEASE).update(
        state=TimerState.PENDING, claimed_by="", claimed_at=None
    )


def timers_run_due(*, worker_id: str, limit: int = BATCH) -> int:
    """One tick: recover stale claims, claim what is due, run it. Returns timers run."""
    timers_recover()
    claimed = _claim(worker_id=worker_id, limit=limit)
    for timer in claimed:
        _run_one(timer)
    return len(claimed)
