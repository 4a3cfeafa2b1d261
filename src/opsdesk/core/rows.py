"""Model instances from a hand-written SELECT, for the few reads on every request.

Building a queryset costs several times executing it (measured: the API token lookup took
1.3 ms of CPU through the ORM and 0.18 ms as the same SQL on a cursor). For a read of a
fixed shape that runs on every request, :class:`RowReader` supplies the column list of
whole models and turns a result row back into instances with Django's own converters (the
same values the ORM would give: aware datetimes, booleans on SQLite, JSON). Everything
else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


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
        with connection.cursor() as cursor:
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
            values = []
            for col, converters in fields:
                value = row[position]
                position += 1
                for convert in converters:
                    value = convert(value, col, conn)
                values.append(value)
            pk_index = model._meta.concrete_fields.index(model._meta.pk)
            if values[pk_index] is None:
                out.append(None)
                continue
            names = [f.attname for f in model._meta.concrete_fields]
            out.append(model.from_db(conn.alias, names, values))
        return out


_insert_sql: dict[tuple[type[Model], str, tuple[str, ...]], str] = {}


def row_insert(instance: Model) -> None:
    """INSERT ``instance`` with a written-out statement and set its primary key, as
    ``save(force_insert=True)`` would: each field's ``pre_save`` (``auto_now`` and the like)
    and ``get_db_prep_save`` give the values. No ``pre_save``/``post_save`` signals are sent
    and ``save()`` overrides are not called, so it is only for models that need neither (the
    ticket and its timeline entries, opened on every channel)."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: see RowReader.instances
    meta = instance._meta
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every concrete model has one
    fields = [
        f for f in meta.concrete_fields if not (f is pk and getattr(instance, f.attname) is None)
    ]
    key = (type(instance), conn.vendor, tuple(f.attname for f in fields))
    sql = _insert_sql.get(key)
    if sql is None:
        quote = conn.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = _insert_sql[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608 - names from the model
            f"RETURNING {quote(pk.column)}"
        )
    values = [f.get_db_prep_save(f.pre_save(instance, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - INSERT … RETURNING returns the row
    setattr(instance, pk.attname, row[0])
    instance._state.adding = False
    instance._state.db = conn.alias
