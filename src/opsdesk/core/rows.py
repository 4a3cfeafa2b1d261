"""Model instances from a hand-written SELECT, for the few reads on every request.

Building a queryset costs several times executing it (measured: the API token lookup took
1.3 ms of CPU through the ORM and 0.18 ms as the same SQL on a cursor). For a read of a
fixed shape that runs on every request, :class:`RowReader` supplies the column list of
whole models and turns a result row back into instances with Django's own converters (the
same values the ORM would give: aware datetimes, booleans on SQLite, JSON). Everything
else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]

# Where kept_cursor keeps its cursor: on the connection wrapper (one per thread).
_KEPT = "_opsdesk_kept_cursor"


def kept_cursor() -> AbstractContextManager[Any]:
    """A cursor of the default connection for one statement of a hot path; on PostgreSQL
    the same cursor serves the next statement on that connection.

    ``connection.cursor()`` builds a driver cursor and Django's wrapper for every statement,
    about half of a small statement's client CPU (counted under callgrind: 189 k
    instructions per SELECT that way, 90 k through one kept wrapper; a new incident from an
    alert runs five). What a statement goes through is unchanged: Django's execute
    wrappers, its error translation and its broken-transaction check, all per execute.
    Kept only on PostgreSQL, whose client-side cursor holds nothing on the server between
    statements (an SQLite cursor left on an unfinished SELECT would hold its read lock),
    and not while queries are logged (DEBUG, tests capturing queries), which needs Django's
    debug cursor: then, as elsewhere, a new cursor per statement. The next statement on the
    kept cursor replaces its results: read them inside the block, and run no other
    statement through ``kept_cursor`` there."""
    return _KeptCursor()


class _KeptCursor:
    """kept_cursor's context manager: a class, as a generator-based one cost another 10 k
    instructions per statement."""

    __slots__ = ("fresh",)

    fresh: Any

    def __enter__(self) -> Any:
        conn = connections[DEFAULT_DB_ALIAS]
        if conn.vendor != "postgresql" or conn.queries_logged:
            self.fresh = conn.cursor()
            return self.fresh
        self.fresh = None
        conn.close_if_health_check_failed()  # what connection.cursor() does first
        kept = conn.__dict__.get(_KEPT)
        # A reconnect (or a close) replaces conn.connection: its old cursor goes with it.
        if kept is None or kept[0] is not conn.connection or kept[2].closed:
            cursor = conn.cursor()
            kept = (conn.connection, cursor, cursor.cursor)
            conn.__dict__[_KEPT] = kept
        return kept[1]

    def __exit__(self, *exc: object) -> None:
        if self.fresh is not None:
            self.fresh.close()


class RowReader:
    """Columns and converters for ``(model, table alias)`` pairs, in that order."""

    def __init__(self, *parts: tuple[type[Model], str]) -> None:
        self.parts = parts
        self._converters: dict[str, list[list[tuple[Any, list[Converter]]]]] = {}
        self._columns: dict[str, str] = {}

    def columns(self) -> str:
        """``alias.column, …`` of every concrete field of every part."""
        conn = connections[DEFAULT_DB_ALIAS]
        columns = self._columns.get(conn.vendor)
        if columns is None:
            quote = conn.ops.quote_name
            columns = self._columns[conn.vendor] = ", ".join(
                f"{alias}.{quote(field.column)}"
                for model, alias in self.parts
                for field in model._meta.concrete_fields
            )
        return columns

    def _plan(self, conn: Any) -> list[list[tuple[Any, list[Converter]]]]:
        plan = self._converters.get(conn.vendor)
        if plan is None:
            plan = []
            for model, alias in self.parts:
                fields = []
                for field in model._meta.concrete_fields:
                    col = field.get_col(alias)
                    converters = [
                        *conn.ops.get_db_converters(col),
                        *col.get_db_converters(conn),
                    ]
                    fields.append((col, converters))
                plan.append(fields)
            self._converters[conn.vendor] = plan
        return plan

    def fetch_one(self, sql: str, params: Sequence[Any]) -> list[Model | None] | None:
        """The instances of the first row ``sql`` returns (it selects :meth:`columns`), or
        None when it returns none."""
        row = self.fetch_row(sql, params)
        return self.instances(row) if row is not None else None

    def fetch_row(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row ``sql`` returns, as the database driver gives it (for
        :meth:`instances` later), or None."""
        with kept_cursor() as cursor:
            cursor.execute(sql, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def fetch_all(self, sql: str, params: Sequence[Any]) -> list[list[Model | None]]:
        """The instances of every row ``sql`` returns (it selects :meth:`columns`)."""
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [self.instances(row) for row in cursor.fetchall()]

    def instances(self, row: Sequence[Any]) -> list[Model | None]:
        """One instance per part (None for a part whose primary key is NULL: an outer join
        that found nothing), marked as loaded from the database."""
        # The connection itself, not the ``django.db.connection`` proxy: every attribute read
        # through the proxy is a context-local lookup, and converters read several per value.
        conn = connections[DEFAULT_DB_ALIAS]
        out: list[Model | None] = []
        position = 0
        for (model, _alias), fields in zip(self.parts, self._plan(conn), strict=True):
            start, position = position, position + len(fields)
            # A NULL key is an outer join that found nothing: no need to convert the rest
            # (a new alert's look-ups return one such row of some sixty columns).
            if row[start + _pk_index(model)] is None:
                out.append(None)
                continue
            values = []
            for value, (col, converters) in zip(row[start:position], fields, strict=True):
                for convert in converters:
                    value = convert(value, col, conn)
                values.append(value)
            out.append(model.from_db(conn.alias, _attnames(model), values))
        return out


@cache
def _pk_index(model: type[Model]) -> int:
    return model._meta.concrete_fields.index(model._meta.pk)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


# (model, vendor, whether the primary key is given) → the fields an INSERT sends, the key of
# their preparation plan (``_insert_prep``) and the statement.
_insert_plans: dict[tuple[type[Model], str, bool], tuple[list[Any], Any, str]] = {}

# Field classes whose ``pre_save`` and ``get_db_prep_save`` hand a value of the type below
# (or None) to the driver as it is: row_insert skips the two calls for them (half a new
# alert's INSERT preparation went there: about 90 fields per alert, each through four
# calls). Exact classes only; a subclass may convert, and goes the whole way.
_AS_IS_STR = (
    models.CharField,
    models.TextField,
    models.EmailField,
    models.URLField,
    models.SlugField,
)
_AS_IS_INT = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)
# (attname, the type a value passes as is — None: always the field's own conversion —,
# the field), per model, vendor and field list.
_PrepPlan = list[tuple[str, type | None, Any]]
_insert_prep: dict[tuple[type[Model], str, tuple[str, ...]], _PrepPlan] = {}


def _as_is_type(field: Any, vendor: str) -> type | None:
    kind = type(field)
    if kind is models.ForeignKey:
        return _as_is_type(field.target_field, vendor)
    if kind in _AS_IS_STR:
        return str
    if kind in _AS_IS_INT:
        return int
    if kind is models.BooleanField:
        return bool
    if kind is models.DateTimeField and vendor == "postgresql":
        # PostgreSQL takes an aware datetime as it is (DatabaseOperations
        # .adapt_datetimefield_value); auto_now fields set theirs in pre_save.
        return None if field.auto_now or field.auto_now_add else datetime
    return None


def insert_values(instance: Model, fields: Sequence[Any]) -> list[Any]:
    """The values an INSERT of ``fields`` of ``instance`` sends, as ``row_insert`` prepares
    them (each field's ``get_db_prep_save(pre_save(…))``, skipped where it changes
    nothing), for a hand-written INSERT of another shape (jobs.timers' upsert)."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: see RowReader.instances
    key = (type(instance), conn.vendor, tuple(f.attname for f in fields))
    return _prep_values(instance, key, fields, conn)


def _prep_values(instance: Model, key: Any, fields: Sequence[Any], conn: Any) -> list[Any]:
    """What ``get_db_prep_save(pre_save(…))`` gives for each of ``fields``."""
    plan = _insert_prep.get(key)
    if plan is None:
        plan = _insert_prep[key] = [(f.attname, _as_is_type(f, conn.vendor), f) for f in fields]
    state = instance.__dict__
    values = []
    for attname, as_is, field in plan:
        value = state.get(attname)
        if as_is is not None and (
            value is None
            or (
                type(value) is as_is
                and (as_is is not datetime or cast(datetime, value).tzinfo is not None)
            )
            or (as_is is str and isinstance(value, str))  # TextChoices members
        ):
            values.append(value)
        else:
            values.append(field.get_db_prep_save(field.pre_save(instance, True), conn))
    return values


def row_insert(instance: Model) -> None:
    """INSERT ``instance`` with a written-out statement and set its primary key, as
    ``save(force_insert=True)`` would: each field's ``pre_save`` (``auto_now`` and the like)
    and ``get_db_prep_save`` give the values. No ``pre_save``/``post_save`` signals are sent
    and ``save()`` overrides are not called, so it is only for models that need neither (the
    ticket and its timeline entries, opened on every channel).

    Inside :func:`inserts_together`, an instance whose primary key is already set (drawn
    with :func:`ids_next`) is only queued: its INSERT goes out with the others at the end of
    the block."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: see RowReader.instances
    meta = instance._meta
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every concrete model has one
    known = getattr(instance, pk.attname) is not None
    plan = _insert_plans.get((type(instance), conn.vendor, known))
    if plan is None:
        fields = [f for f in meta.concrete_fields if known or f is not pk]
        key = (type(instance), conn.vendor, tuple(f.attname for f in fields))
        quote = conn.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model
        plan = _insert_plans[(type(instance), conn.vendor, known)] = (fields, key, sql)
    fields, key, sql = plan
    values = _prep_values(instance, key, fields, conn)
    instance._state.db = conn.alias
    if known and statement_defer(sql, values):
        instance._state.adding = False
        return
    with conn.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {conn.ops.quote_name(pk.column)}", values)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - INSERT … RETURNING returns the row
    setattr(instance, pk.attname, row[0])
    instance._state.adding = False


# The statements queued by the innermost ``inserts_together`` block, if any.
_queued: ContextVar[list[tuple[str, Sequence[Any]]] | None] = ContextVar(
    "opsdesk_rows_queued", default=None
)


def inserts_together() -> AbstractContextManager[None]:
    """Send the INSERTs queued inside the block (:func:`row_insert` of instances with a
    drawn primary key, :func:`statement_defer`) as one statement when it ends.

    On PostgreSQL that statement chains them as data-modifying CTEs (``WITH a AS (INSERT …),
    b AS (INSERT …) INSERT …``): opening a ticket writes the ticket, its SLA timers and its
    first timeline entry, and each statement of its own cost a round trip plus about
    0.1 ms of CPU on each side (decision 0007). Nothing inside the block may read back a
    queued row, and foreign keys between them must be deferrable (Django's are). Elsewhere
    (SQLite) nothing is queued and every write runs at once, as without the block.

    An exception inside the block drops the queue: its transaction is rolled back anyway.
    """
    return _InsertsTogether()


class _InsertsTogether:
    """inserts_together's context manager: a class, as a generator-based one costs some
    10 k instructions a block and an incident from an alert nests four."""

    __slots__ = ("queue", "token")

    queue: list[tuple[str, Sequence[Any]]]
    token: Token[list[tuple[str, Sequence[Any]]] | None] | None

    def __enter__(self) -> None:
        # An outer block sends these with its own.
        if _queued.get() is not None or connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            self.token = None
            return
        self.queue = []
        self.token = _queued.set(self.queue)

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self.token is None:
            return
        _queued.reset(self.token)
        if exc_type is None:
            _queued_send(self.queue)


def statement_defer(sql: str, params: Sequence[Any]) -> bool:
    """Queue a data-modifying statement whose result nobody reads (no RETURNING) for the
    enclosing :func:`inserts_together` block; False, and nothing queued, outside one."""
    queue = _queued.get()
    if queue is None:
        return False
    queue.append((sql, params))
    return True


def _queued_send(queue: list[tuple[str, Sequence[Any]]]) -> None:
    if not queue:
        return
    *first, (last_sql, _) = queue
    # The text depends only on the statements' shapes, so psycopg prepares it like any other.
    sql = (
        "WITH " + ", ".join(f"w{i} AS ({text})" for i, (text, _) in enumerate(first)) + " "
        if first
        else ""
    ) + last_sql
    params = [value for _, values in queue for value in values]
    with kept_cursor() as cursor:
        cursor.execute(sql, params)


# psycopg caches its conversion of a query's placeholders only for queries of at most 50
# parameters (and 4 KiB), to keep generated multi-row INSERTs of every size out of its
# 128-entry cache. A ticket's one INSERT (``inserts_together``) has about 60 and the same
# few shapes every time: converting it again on each call cost about 0.25 ms of CPU
# (profiled). The length limit stays, which bounds the cache's size.
CACHED_STATEMENT_PARAMS = 200


def psycopg_query_cache_widen() -> None:
    """Let psycopg cache the conversion of queries with up to ``CACHED_STATEMENT_PARAMS``
    parameters (its module constant; without psycopg, nothing to do)."""
    try:
        from psycopg import _queries
    except ImportError:
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", CACHED_STATEMENT_PARAMS) < (
        CACHED_STATEMENT_PARAMS
    ):
        _queries.MAX_CACHED_STATEMENT_PARAMS = CACHED_STATEMENT_PARAMS


# table → the sequence behind its primary key, on the default database (PostgreSQL only:
# one process never changes that database's vendor).
_pk_sequences: dict[str, str] = {}


def one_row_with(heads: Sequence[str], sql: str) -> str:
    """``sql`` (a SELECT) with ``heads`` (expressions such as ``nextval(…)`` or a lock) as
    its first columns, and one row even when it finds nothing (then NULLs after the heads),
    so the heads are always evaluated; they are evaluated again on each further row. The
    heads' parameters come first."""
    if not heads:
        return sql
    return (
        f"SELECT {', '.join(heads)}, found.* FROM (SELECT 1) AS one "  # noqa: S608 - fixed text
        f"LEFT JOIN LATERAL ({sql}) AS found ON true"
    )


@dataclass
class DrawAhead:
    """Values of PostgreSQL sequences (``names``) that a coming statement needs, drawn by
    an earlier statement that has room for them (``values``, in order; None until then)."""

    names: list[str]
    values: list[int] | None = None


_ahead: ContextVar[DrawAhead | None] = ContextVar("opsdesk_rows_ahead", default=None)


@contextmanager
def draws_ahead(names: Sequence[str]) -> Iterator[DrawAhead]:
    """Offer the draw of ``names`` to the statements run inside the block (one that selects
    a row anyway adds ``nextval`` columns: ``draws_pending``), saving the round trip of a
    statement of its own. Afterwards ``values`` holds what was drawn, or None: then draw as
    usual. Values drawn and not used are gaps, as after a rollback."""
    request = DrawAhead(list(names))
    token = _ahead.set(request if names else None)
    try:
        yield request
    finally:
        _ahead.reset(token)


def draws_pending() -> DrawAhead | None:
    """The draw a statement about to run may take on (see ``draws_ahead``), if any. The
    statement selects ``nextval(%s::regclass)`` for each of its ``names`` and sets
    ``values`` from its row."""
    request = _ahead.get()
    return request if request is not None and request.values is None else None


def ids_next(models: Sequence[type[Model]], *, also: Sequence[str] = ()) -> list[int] | None:
    """Draw the next primary key of each of ``models`` (PostgreSQL sequences), then the next
    value of each sequence named in ``also``, in one statement; None elsewhere (SQLite hands
    out ids at INSERT only). A drawn id not used is a gap, as after any rollback."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        return None
    names = [pk_sequence(model) for model in models] + list(also)
    with kept_cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(["nextval(%s::regclass)"] * len(names)),
            names,
        )
        row = cursor.fetchone()
    return [int(value) for value in row]


def pk_sequence(model: type[Model]) -> str:
    """The name of the PostgreSQL sequence behind ``model``'s primary key (looked up once
    per process), for drawing ids inside a statement of one's own (``nextval``)."""
    table = model._meta.db_table
    name = _pk_sequences.get(table)
    if name is None:
        conn = connections[DEFAULT_DB_ALIAS]
        pk = model._meta.pk
        assert pk is not None  # noqa: S101 - every concrete model has one
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            (name,) = cursor.fetchone()
        if name is None:
            raise LookupError(f"{table}.{pk.column} has no sequence")
        _pk_sequences[table] = name
    return name
