"""``alert_ingest``: store alerts, dedupe by fingerprint, track state and flapping.

See docs/subsystems/alerts.md ("Ingest")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import (
    AlertStatus,
)
from opsdesk.alerts.models import (
    Alert,
    AlertGroup,
    Integration,
)
from opsdesk.alerts.services.batch import FLAP_THRESHOLD, FLAP_WINDOW, Batch, IngestResult
from opsdesk.alerts.services.groups import (
    firing_noted,
    group_for_firing,
    group_key,
    group_lock_keys,
    group_reusable,
    group_settle,
    is_silenced,
    note,
)
from opsdesk.alerts.sources.base import (
    AlertInput,
)
from opsdesk.core.clock import now
from opsdesk.core.configcache import config_scope
from opsdesk.core.rows import RowReader, inserts_together, kept_cursor, one_row_with, row_insert
from opsdesk.tickets.models import Ticket

# Fingerprints per UPDATE of the repeat path (well below every database's parameter limit).
REPEAT_CHUNK = 500
# PostgreSQL, opt-in (OPSDESK_ALERTS_REPEATS_ASYNC_COMMIT): a call that only counts repeats
# commits without waiting for the WAL flush (synchronous_commit off for that transaction).
# A database crash can then lose the last fraction of a second of count/last_seen bumps —
# never an alert, a state change or an incident, which commit synchronously. The flush wait
# (~2.5 ms on our disks) was most of a repeat's time. Off by default: the webhook's promise
# is a 2xx only after a durable commit.


def alert_ingest(*, integration: Integration, alerts: list[AlertInput]) -> IngestResult:
    """Store ``alerts`` (deduplicated by fingerprint) and bring incidents up to date, in one
    transaction.

    The hot path: repeats of known alerts in the same state are one UPDATE of count and
    last_seen (``_repeats_count``). A lone repeat is that single statement and nothing else
    (atomic on its own, so no BEGIN/COMMIT round trips); only new alerts and state changes
    load rows, touch groups and write timelines (``_changes_ingest``).
    """
    at = now()
    unique = list({a.fingerprint: a for a in alerts}.values())
    if len(unique) == 1:
        if _repeats_count(integration=integration, items=unique, at=at, relaxed=True):
            return IngestResult(updated=1)
        result = IngestResult()
        _changes_ingest(integration=integration, items=unique, at=at, result=result)
        return result
    may_relax = _async_commit()  # decided outside our own transaction
    with transaction.atomic():
        done = _repeats_count(integration=integration, items=unique, at=at)
        result = IngestResult(updated=len(done))
        rest = [item for item in unique if item.fingerprint not in done]
        if rest:
            _changes_ingest(integration=integration, items=rest, at=at, result=result)
        elif may_relax:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
        return result


def _async_commit() -> bool:
    """Only a transaction of our own may skip the flush wait, never a caller's."""
    return (
        bool(settings.OPSDESK["ALERTS_REPEATS_ASYNC_COMMIT"])
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def _repeats_count(
    *, integration: Integration, items: list[AlertInput], at: datetime, relaxed: bool = False
) -> set[str]:
    """Count up every known alert whose state did not change; the fingerprints it counted.

    Raw SQL on purpose: this runs for nearly every webhook call, and the ORM's query
    building costs more than the statement itself. Identifiers come from the model,
    values are parameters. ``relaxed``: the statement is its own (autocommitted)
    transaction and may commit asynchronously (OPSDESK_ALERTS_REPEATS_ASYNC_COMMIT); the
    setting rides in the statement itself (``set_config(…, true)`` in a CTE), so it costs no
    round trip.
    """
    by_status: dict[str, list[str]] = {}
    for item in items:
        if item.status != AlertStatus.UNKNOWN:  # unknown on a known alert also leaves a note
            by_status.setdefault(item.status, []).append(item.fingerprint)
    if not by_status:
        return set()
    stamp = connection.ops.adapt_datetimefield_value(at)
    relaxed = relaxed and len(by_status) == 1 and _async_commit()
    counted: set[str] = set()
    with kept_cursor() as cursor:
        for status, fingerprints in by_status.items():
            for i in range(0, len(fingerprints), REPEAT_CHUNK):
                chunk = fingerprints[i : i + REPEAT_CHUNK]
                cursor.execute(
                    _repeat_sql(len(chunk), relaxed=relaxed),
                    [stamp, integration.pk, status, *chunk],
                )
                counted.update(row[0] for row in cursor.fetchall())
    return counted


def _repeat_sql(size: int, *, relaxed: bool) -> str:
    """UPDATE … RETURNING for ``size`` fingerprints; parameters: last_seen, integration id,
    status, the fingerprints. Built once per shape and database."""
    return repeat_sql_built(connection.vendor, size, relaxed)


@lru_cache(maxsize=128)
def repeat_sql_built(vendor: str, size: int, relaxed: bool) -> str:
    quote = connection.ops.quote_name
    table, count, last_seen = quote(Alert._meta.db_table), quote("count"), quote("last_seen")
    marks = ", ".join(["%s"] * size)
    with_relaxed = "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
    # Identifiers come from the model and the placeholders are fixed: no injection.
    return (
        (with_relaxed if relaxed else "")  # noqa: S608
        + f"UPDATE {table} SET {count} = {count} + 1, {last_seen} = %s"  # noqa: S608
        + (" FROM relaxed" if relaxed else "")
        + f" WHERE integration_id = %s AND status = %s AND fingerprint IN ({marks})"
        + " RETURNING fingerprint"
    )


@transaction.atomic(savepoint=False)
def _changes_ingest(
    *, integration: Integration, items: list[AlertInput], at: datetime, result: IngestResult
) -> None:
    """New alerts, state changes and unknown states: the known rows locked, groups and
    incidents brought up to date. One configuration stamp (core.configcache) serves the
    whole call: silences, mapping rules, and the routing and SLA of the incidents it opens."""
    with config_scope():
        _changes_apply(integration=integration, items=items, at=at, result=result)


def _changes_apply(
    *, integration: Integration, items: list[AlertInput], at: datetime, result: IngestResult
) -> None:
    batch = Batch(integration=integration, at=at, result=result)
    locking: list[str] = []
    if connection.vendor == "postgresql":
        # Every key a firing alert may open a group under (groups.group_lock_keys), in one
        # order for all calls: no two calls can then wait for each other's keys.
        locking = sorted(
            {
                group_key(integration=integration, item=i)
                for i in items
                if i.status == AlertStatus.FIRING
            }
        )
    known = _known_locked(
        integration_id=integration.pk,
        fingerprints=[a.fingerprint for a in items],
        lock_keys=[group_lock_keys(integration_id=integration.pk, key=key) for key in locking],
    )
    repeats: list[int] = []
    for item in items:
        alert = known.get(item.fingerprint)
        if alert is None:
            _alert_new(batch, item)
        elif item.status == alert.status:
            repeats.append(alert.pk)  # another call changed it a moment ago
        elif item.status == AlertStatus.UNKNOWN:
            repeats.append(alert.pk)
            _alert_note_unknown(batch, alert, item)
        else:
            _alert_state_change(batch, alert, item)
    if repeats:
        Alert.objects.filter(pk__in=repeats).update(count=F("count") + 1, last_seen=batch.at)
        batch.result.updated += len(repeats)
    for group in batch.touched.values():
        group_settle(batch, group)


# Every new alert or state change reads its known rows: written out (core.rows, decision
# 0007), as the queryset with its joins cost several times the statement.
_KNOWN = RowReader((Alert, "a"), (AlertGroup, "g"), (Ticket, "t"))


def _known_locked(
    *, integration_id: int, fingerprints: list[str], lock_keys: Sequence[Sequence[int]] = ()
) -> dict[str, Alert]:
    """The stored alerts of ``fingerprints`` with their group and its incident, the alert
    rows locked until commit (PostgreSQL; SQLite's transaction holds the write lock), and
    in the same statement the advisory locks of ``lock_keys`` (pairs of int4), in order."""
    known: dict[str, Alert] = {}
    sql = known_sql(len(fingerprints), locks=len(lock_keys))
    params: list[Any] = [k for pair in lock_keys for k in pair]
    params += [integration_id, *fingerprints]
    with kept_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for row in rows:
        alert, group, incident = _KNOWN.instances(row[len(lock_keys) :])
        if alert is None:
            continue  # the locks' row when no alert is stored yet
        assert isinstance(alert, Alert)  # noqa: S101 - the row is an alert's
        if group is not None:
            AlertGroup.incident.field.set_cached_value(group, incident)
        Alert.group.field.set_cached_value(alert, group)
        known[alert.fingerprint] = alert
    return known


def known_sql(size: int, *, locks: int = 0) -> str:
    """SELECT … FOR UPDATE of ``size`` fingerprints; parameters: the two keys of each of
    ``locks`` advisory locks (PostgreSQL), integration id, the fingerprints."""
    return _known_sql_built(connection.vendor, size, locks)


@lru_cache(maxsize=128)
def _known_sql_built(vendor: str, size: int, locks: int) -> str:
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * size)
    lock = " FOR UPDATE OF a" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT {_KNOWN.columns()} FROM {quote(Alert._meta.db_table)} a "  # noqa: S608 - names from models
        f"LEFT JOIN {quote(AlertGroup._meta.db_table)} g ON g.id = a.group_id "
        f"LEFT JOIN {quote(Ticket._meta.db_table)} t ON t.id = g.incident_id "
        f"WHERE a.integration_id = %s AND a.fingerprint IN ({marks}){lock}"
    )
    # Taken again on each further row: a lock the transaction holds is granted at once.
    return one_row_with(["pg_advisory_xact_lock(%s, %s)"] * locks, sql)


def _alert_new(batch: Batch, item: AlertInput) -> None:
    """One INSERT with the group already chosen; a resolved or unknown alert never seen
    firing is stored and opens nothing.

    On PostgreSQL a firing alert's rows (a new group and its incident, the alert, its
    timeline entry) go out as one statement, with the ids the group look-up drew."""
    alert = Alert(
        integration=batch.integration,
        fingerprint=item.fingerprint,
        status=item.status,
        first_seen=batch.at,
        last_seen=batch.at,
    )
    _alert_fill(alert, item)
    with inserts_together():
        group = None
        if item.status == AlertStatus.FIRING:
            alert.is_silenced = is_silenced(batch, item.labels)
            group = group_for_firing(batch, item, silenced=alert.is_silenced)
            alert.group = group
        alert.pk = batch.id_take(Alert)
        row_insert(alert)  # save(force_insert=True) without building the INSERT (core.rows)
        batch.result.created += 1
        if group is not None:
            firing_noted(batch, group, item)


def _alert_fill(alert: Alert, item: AlertInput) -> None:
    alert.labels = item.labels
    alert.annotations = item.annotations
    alert.summary = item.summary
    alert.severity = item.severity
    alert.source_url = item.source_url
    alert.starts_at = item.starts_at or alert.starts_at
    alert.ends_at = item.ends_at


def _alert_state_change(batch: Batch, alert: Alert, item: AlertInput) -> None:
    flapping_started = _flap_track(alert, batch.at)
    alert.status = item.status
    alert.count += 1  # the row is locked (select_for_update above)
    alert.last_seen = batch.at
    _alert_fill(alert, item)
    if item.status == AlertStatus.FIRING and not group_reusable(batch, alert.group):
        alert.is_silenced = is_silenced(batch, item.labels)
        alert.group = group_for_firing(batch, item, silenced=alert.is_silenced)
        alert.save()
        firing_noted(batch, alert.group, item)
    else:
        alert.save()
        if alert.group is not None:
            batch.touched[alert.group.pk] = alert.group
            if flapping_started:
                note(batch, alert.group, _flappingnote(alert), item)
            elif not alert.is_flapping:
                note(batch, alert.group, _statenote(item), item)
    batch.result.updated += 1


def _alert_note_unknown(batch: Batch, alert: Alert, item: AlertInput) -> None:
    if alert.group is not None and not alert.is_flapping:
        reason = item.annotations.get("reason") or item.annotations.get("state") or ""
        body = _("Alert state unknown: %(summary)s %(reason)s") % {
            "summary": item.summary,
            "reason": reason,
        }
        note(batch, alert.group, body.strip(), item)


def _flap_track(alert: Alert, at: datetime) -> bool:
    """Count one state change; True when this change starts flapping."""
    if alert.flap_window_start is None or at - alert.flap_window_start > FLAP_WINDOW:
        alert.flap_window_start = at
        alert.flap_changes = 1
    else:
        alert.flap_changes += 1
    was_flapping = alert.is_flapping
    alert.is_flapping = alert.flap_changes >= FLAP_THRESHOLD
    return alert.is_flapping and not was_flapping


def _statenote(item: AlertInput) -> str:
    if item.status == AlertStatus.RESOLVED:
        return _("Alert resolved: %(summary)s") % {"summary": item.summary}
    return _("Alert firing again: %(summary)s") % {"summary": item.summary}


def _flappingnote(alert: Alert) -> str:
    return _(
        "Alert is flapping (%(changes)s state changes within %(minutes)s minutes): state "
        "changes are no longer noted and do not resolve the incident."
    ) % {"changes": alert.flap_changes, "minutes": int(FLAP_WINDOW.total_seconds() // 60)}
