"""Rows read very recently, kept per process for as long as configuration is trusted.

Every API request reads its token's row (with the user, profile and team ids), and every
API ticket create reads its organisation by code. Both rows change seldom, and a change must
reach every process soon, not at once: this keeps such a row for
``OPSDESK["CONFIG_CACHE_SECONDS"]`` (1 s by default), the interval in which configuration
changes reach the other processes too (core.configcache). A save or delete of a model
registered with :class:`RecentRows` in this process forgets everything at once, so the
process that revoked a token or deactivated an organisation sees it on its next request; the
others within the interval. A bare ``QuerySet.update()`` is seen only when the interval ends.

Only rows are kept, never model instances: each request builds its own instances from the
row, so no request can change what another sees. Misses (an unknown token) are not kept, so
guessing cannot fill the cache; its size is bounded all the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

# Distinct keys kept per cache; past this the oldest half is dropped.
MAX_ENTRIES = 2048


class RecentRows:
    """A per-process map of key -> row read at most ``CONFIG_CACHE_SECONDS`` ago."""

    def __init__(self, name: str, *invalidated_by: type[Model]) -> None:
        self._rows: dict[tuple[str, Hashable], tuple[float, Sequence[Any]]] = {}
        for model in invalidated_by:
            # dispatch_uid keeps one receiver per cache however often the module is imported.
            post_save.connect(self._changed, sender=model, dispatch_uid=f"recent-{name}-{model}")
            post_delete.connect(
                self._changed, sender=model, dispatch_uid=f"recent-{name}-{model}-del"
            )

    def _changed(self, **_: Any) -> None:
        self.clear()

    def clear(self) -> None:
        self._rows.clear()

    def forget(self, key: Hashable, *, alias: str = "") -> None:
        """Read ``key``'s row afresh next time (this process just changed it)."""
        self._rows.pop((alias or DEFAULT_DB_ALIAS, key), None)

    def get(
        self, key: Hashable, read: Callable[[], Sequence[Any] | None], *, alias: str = ""
    ) -> Sequence[Any] | None:
        """The row for ``key`` of database ``alias``: kept if read recently enough, else
        ``read()`` (None: no such row, not kept)."""
        ttl = cast(float, settings.OPSDESK["CONFIG_CACHE_SECONDS"])
        if ttl <= 0:
            return read()
        alias = alias or DEFAULT_DB_ALIAS
        slot = (alias, key)
        moment = time.monotonic()
        kept = self._rows.get(slot)
        if kept is not None and moment - kept[0] < ttl:
            return kept[1]
        row = read()
        # Inside a transaction the row may be one this transaction wrote and may yet roll
        # back: only what was read outside any is kept.
        if row is None or connections[alias].in_atomic_block:
            self._rows.pop(slot, None)
            return row
        if len(self._rows) >= MAX_ENTRIES:
            for old in list(self._rows)[: MAX_ENTRIES // 2]:  # insertion order: oldest first
                del self._rows[old]
        self._rows.pop(slot, None)  # re-inserted last, so eviction drops the oldest reads
        self._rows[slot] = (moment, row)
        return row
