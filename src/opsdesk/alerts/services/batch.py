"""What one ingest call shares: thresholds, the result and the per-call cache.

See docs/subsystems/alerts.md ("Ingest")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Model

from opsdesk.alerts.enums import (
    AlertSeverity,
)
from opsdesk.alerts.models import (
    AlertGroup,
    Integration,
)
from opsdesk.tickets.enums import Priority, Severity

# Alert severity → (incident severity, priority). Critical alerts are "complex" incidents
# (the 4-hour recovery class) at urgent priority; "urgent" severity (everyone mobilised) is
# a human decision or an explicit mapping rule, never automatic.
SEVERITY_MAP: dict[str, tuple[str, str]] = {
    AlertSeverity.CRITICAL: (Severity.COMPLEX, Priority.URGENT),
    AlertSeverity.WARNING: (Severity.SIMPLE, Priority.HIGH),
    AlertSeverity.INFO: (Severity.SIMPLE, Priority.NORMAL),
}
# Flapping: this many state changes within the window mark an alert flapping; while it
# flaps, state changes leave no timeline note and do not resolve the incident (firing
# again still reopens it: a firing alert is never hidden).
FLAP_THRESHOLD = 4
FLAP_WINDOW = timedelta(hours=1)
# A group that fires again within this time of resolving reopens its incident.
REOPEN_WINDOW = timedelta(hours=24)
TIMELINE_DATA_LIMIT = 8_000


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    incidents: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """What one ingest call loads at most once."""

    integration: Integration
    at: datetime
    result: IngestResult
    groups: dict[str, AlertGroup | None] = field(default_factory=dict)
    touched: dict[int, AlertGroup] = field(default_factory=dict)
    # Groups this call opened → how many alerts joined them (group_settle needs no recount).
    fresh: dict[int, int] = field(default_factory=dict)
    # Incidents this call opened: their timeline entries need no lock (the transaction
    # holds their new rows).
    opened: set[int] = field(default_factory=set)
    # Primary keys drawn ahead with a group look-up (PostgreSQL), by model: a new alert's
    # rows then go out as one statement (core.rows.inserts_together). One not used is a gap.
    ids: dict[type[Model], list[int]] = field(default_factory=dict)

    def id_take(self, model: type[Model]) -> int | None:
        """A drawn primary key for a new ``model`` row, or None (the INSERT assigns one)."""
        pool = self.ids.get(model)
        return pool.pop() if pool else None
