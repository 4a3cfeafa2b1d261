"""``alert_ingest``: store alerts, dedupe by fingerprint, track state and flapping.

See docs/subsystems/alerts.md ("Ingest")."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import (
    AlertStatus,
)
from opsdesk.alerts.models import (
    Alert,
    Integration,
)
from opsdesk.alerts.services.batch import FLAP_THRESHOLD, FLAP_WINDOW, Batch, IngestResult
from opsdesk.alerts.services.groups import (
    alert_attach,
    group_reusable,
    group_settle,
    is_silenced,
    note,
)
from opsdesk.alerts.sources.base import (
    AlertInput,
)
from opsdesk.core.clock import now


@transaction.atomic
def alert_ingest(*, integration: Integration, alerts: list[AlertInput]) -> IngestResult:
    """Store ``alerts`` (deduplicated by fingerprint) and bring incidents up to date.

    Repeats of a known alert in the same state are one UPDATE of count and last_seen for
    the whole batch; only new alerts and state changes touch groups and timelines.
    """
    batch = Batch(integration=integration, at=now(), result=IngestResult())
    unique = list({a.fingerprint: a for a in alerts}.values())
    known = {
        a.fingerprint: a
        for a in Alert.objects.select_for_update(of=("self",))
        .select_related("group")
        .filter(integration=integration, fingerprint__in=[a.fingerprint for a in unique])
        .order_by()
    }
    repeats: list[int] = []
    for item in unique:
        alert = known.get(item.fingerprint)
        if alert is None:
            _alert_new(batch, item)
        elif item.status == alert.status:
            repeats.append(alert.pk)
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
    return batch.result


def _alert_new(batch: Batch, item: AlertInput) -> None:
    alert = Alert(
        integration=batch.integration,
        fingerprint=item.fingerprint,
        status=item.status,
        first_seen=batch.at,
        last_seen=batch.at,
        is_silenced=is_silenced(batch, item.labels),
    )
    _alert_fill(alert, item)
    alert.save()
    batch.result.created += 1
    if item.status == AlertStatus.FIRING:
        alert_attach(batch, alert, item)
    # A resolved or unknown alert never seen firing is stored and opens nothing.


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
        alert.save()
        alert_attach(batch, alert, item)
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
