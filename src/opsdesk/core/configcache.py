"""Per-process caches of configuration tables (SLA policies and calendars, routing rules,
teams), checked with one small query per unit of work.

The *configuration stamp* is the row count and latest ``updated_at`` of every registered
table, read in one statement. Whatever is built from those tables (frozen policies, the
routing table) is cached per process until the stamp moves, so an admin's change through
the admin or the services (which save rows, bumping ``updated_at``) is seen by every process
without a shared cache server. A bare ``QuerySet.update()`` on these tables would not be
seen until the next real save.

How often the stamp is read: at most once per ``OPSDESK["CONFIG_CACHE_SECONDS"]`` (1 s by
default) per process, so the hot paths (a ticket opened, an alert) usually read none; a save
or delete of a registered model in this process drops the cache at once (signals), so the
process that made a change sees it immediately and the others within that second. Inside
:func:`config_scope` the stamp is read at most once whatever the setting: routing and the
SLA refresh of one new ticket share one check.

Apps register their tables from ``AppConfig.ready()`` with :func:`config_models_register`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from opsdesk.core.rows import kept_cursor

T = TypeVar("T")

_models: list[type[Model]] = []
_sql: list[str] = []
_cache: dict[tuple[Any, ...], Any] = {}
_cache_stamp: list[tuple[Any, ...]] = []
# Connection alias -> monotonic time of its last stamp read.
_checked: dict[str, float] = {}
# The stamp read in the current scope, per connection alias; None outside any scope.
_scope: ContextVar[dict[str, tuple[Any, ...]] | None] = ContextVar("config_scope", default=None)


def config_models_register(*models: type[Model]) -> None:
    """Add tables to the stamp; each must have an ``updated_at`` column that every save
    bumps (``auto_now``)."""
    for model in models:
        if model not in _models:
            _models.append(model)
            post_save.connect(_changed, sender=model, dispatch_uid=f"configcache-{model}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"configcache-{model}-del")
    _sql.clear()


def config_cache_clear() -> None:
    """Forget everything cached and read the stamp on the next use."""
    _cache.clear()
    _cache_stamp.clear()
    _checked.clear()


def _changed(**_: Any) -> None:
    config_cache_clear()


def _stamp_sql(extra: str) -> str:
    if not _sql:
        parts = []
        for model in _models:
            table = connection.ops.quote_name(model._meta.db_table)
            parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608 - names from models
            parts.append(f"(SELECT MAX(updated_at) FROM {table})")  # noqa: S608
        _sql.append("SELECT " + ", ".join(parts or ["1"]))
    return _sql[0] + (f", ({extra})" if extra else "")


def config_stamp(*, extra: str = "", params: Sequence[Any] = ()) -> tuple[tuple[Any, ...], Any]:
    """The configuration stamp, and the value of the scalar subquery ``extra`` (with
    ``params``) read in the same statement when given, else None. Clears the process cache
    when the stamp moved. Inside a :func:`config_scope`, a call without ``extra`` reuses the
    scope's stamp."""
    scope = _scope.get()
    # The proxy's alias, always the default one: read through the proxy it is a
    # context-local lookup, and this runs for every cached configuration read.
    alias = DEFAULT_DB_ALIAS
    if not extra:
        if scope is not None and alias in scope:
            return scope[alias], None
        if _fresh(alias):
            stamp = _cache_stamp[0]
            if scope is not None:
                scope[alias] = stamp
            return stamp, None
    with kept_cursor() as cursor:
        cursor.execute(_stamp_sql(extra), list(params))
        row = cursor.fetchone()
    values = row[:-1] if extra else row
    stamp = (alias, *values)
    if not _cache_stamp or _cache_stamp[0] != stamp:
        _cache.clear()
        _cache_stamp[:] = [stamp]
    _checked[alias] = time.monotonic()
    if scope is not None:
        scope[alias] = stamp
    return stamp, row[-1] if extra else None


def _fresh(alias: str) -> bool:
    """Whether this process read the stamp of ``alias`` recently enough to trust its cache."""
    if not _cache_stamp or _cache_stamp[0][0] != alias or alias not in _checked:
        return False
    ttl = cast(float, settings.OPSDESK["CONFIG_CACHE_SECONDS"])
    return time.monotonic() - _checked[alias] < ttl


def config_cached(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """``build()``'s value for ``key``, kept until the stamp moves. Call after
    :func:`config_stamp` in the same unit of work; the value is shared by every caller in
    the process, so it must be treated as read-only."""
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = build()
    return found


def config_scope() -> AbstractContextManager[None]:
    """Read the stamp at most once inside the block (nested scopes share the outer one).

    For short units of work only: a change made by someone else during the block is seen
    by the next one."""
    return _ConfigScope()


class _ConfigScope:
    """config_scope's context manager: a class, cheaper than a generator-based one on the
    paths that open tickets (core.rows.kept_cursor says how much)."""

    __slots__ = ("token",)

    token: Token[dict[str, tuple[Any, ...]] | None] | None

    def __enter__(self) -> None:
        self.token = None if _scope.get() is not None else _scope.set({})

    def __exit__(self, *_: object) -> None:
        if self.token is not None:
            _scope.reset(self.token)
