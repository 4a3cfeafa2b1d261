"""Alert groups and their incidents: open, map, silence, resolve, reopen, annotate.

See docs/subsystems/alerts.md ("Groups and incidents")."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Count, Model, Q
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import (
    AlertSeverity,
    AlertStatus,
    GroupStatus,
    ResolveMode,
)
from opsdesk.alerts.models import (
    Alert,
    AlertGroup,
    Integration,
    MappingRule,
)
from opsdesk.alerts.selectors import mapping_rule_for_labels, silence_matches
from opsdesk.alerts.services.batch import REOPEN_WINDOW, SEVERITY_MAP, TIMELINE_DATA_LIMIT, Batch
from opsdesk.alerts.sources.base import (
    AlertInput,
    clip,
)
from opsdesk.core.errors import InvalidInput
from opsdesk.core.rows import RowReader, one_row_with, pk_sequence, row_insert
from opsdesk.oncall.services import escalation_start
from opsdesk.tickets.enums import Channel, Status, TicketKind
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import (
    ticket_create,
    ticket_status_change,
    ticket_system_event_add,
)


def group_for_firing(batch: Batch, item: AlertInput, *, silenced: bool) -> AlertGroup:
    """The group a firing alert joins: the current one for its key while reusable, else a
    new one (with its incident). A non-silenced alert joining a silenced group opens the
    group's incident then."""
    key = group_key(integration=batch.integration, item=item)
    group = _group_current(batch, key)
    if group is None or not group_reusable(batch, group):
        group = _group_open(batch, key, item, silenced=silenced)
        batch.fresh[group.pk] = 0
    elif group.status == GroupStatus.SILENCED and not silenced:
        _group_incident_open(batch, group, item)
        group.save(update_fields=["organisation", "contract", "status", "incident"])
    batch.touched[group.pk] = group
    if group.pk in batch.fresh:
        batch.fresh[group.pk] += 1
    return group


def firing_noted(batch: Batch, group: AlertGroup, item: AlertInput) -> None:
    """The "Alert firing" entry with labels and annotations on the group's incident."""
    if group.incident_id is not None:
        note(batch, group, _("Alert firing: %(summary)s") % {"summary": item.summary}, item)


def group_key(*, integration: Integration, item: AlertInput) -> str:
    if not integration.group_by:
        return clip(item.fingerprint)
    key = "|".join(f"{name}={item.labels.get(name, '')}" for name in integration.group_by)
    return clip(key)


# Namespace of the alerts app's advisory locks (the first of pg_advisory_xact_lock's keys).
_GROUP_LOCK_SPACE = 0x0A1E


def group_lock_keys(*, integration_id: int, key: str) -> list[int]:
    """pg_advisory_xact_lock's two int4 keys for (integration, group key). Two calls bringing
    the first alerts of one group at the same instant open one incident, not two: each
    takes the lock of every firing alert's key before it looks its groups up (the second
    waits, then finds the first's group; ingest._known_locked). SQLite needs no lock: its
    transactions take the write lock at BEGIN and never overlap."""
    digest = zlib.crc32(f"{integration_id}|{key}".encode())
    return [_GROUP_LOCK_SPACE, digest - 2**32 if digest >= 2**31 else digest]


# Every new alert looks its group up: written out (core.rows, decision 0007), as the
# queryset cost several times the statement.
_GROUP = RowReader((AlertGroup, "g"), (Ticket, "t"))


def _group_current(batch: Batch, key: str) -> AlertGroup | None:
    if key not in batch.groups:
        # The key's lock is held already: what the look-up reads is final. The ids of a new
        # alert, its entry and maybe a new group come along (one not used is a gap).
        batch.groups[key] = _group_latest(batch, key, draw=(Alert, TimelineEvent, AlertGroup))
    return batch.groups[key]


def _group_latest(batch: Batch, key: str, *, draw: Sequence[type[Model]]) -> AlertGroup | None:
    """The newest group of ``key``, with its incident loaded; on PostgreSQL, in the same
    statement, a primary key of each of ``draw`` drawn into ``batch.ids``."""
    sql = group_latest_sql()
    params: list[Any] = [batch.integration.pk, key]
    if connection.vendor == "postgresql":
        sql = one_row_with(["nextval(%s::regclass)"] * len(draw), sql)
        params = [pk_sequence(model) for model in draw] + params
    else:
        draw = ()
    row = _GROUP.fetch_row(sql, params)
    if row is None:  # only without draws: the outer join gives one row
        return None
    for model, value in zip(draw, row[: len(draw)], strict=True):
        batch.ids.setdefault(model, []).append(int(value))
    group, incident = _GROUP.instances(row[len(draw) :])
    if group is None:
        return None
    assert isinstance(group, AlertGroup)  # noqa: S101 - the row is a group's
    AlertGroup.incident.field.set_cached_value(group, incident)
    return group


def group_latest_sql() -> str:
    """The newest group of a key with its incident; parameters: integration id, key."""
    return _group_latest_sql_built(connection.vendor)


@lru_cache(maxsize=4)
def _group_latest_sql_built(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {_GROUP.columns()} FROM {quote(AlertGroup._meta.db_table)} g "  # noqa: S608 - names from models
        f"LEFT JOIN {quote(Ticket._meta.db_table)} t ON t.id = g.incident_id "
        "WHERE g.integration_id = %s AND g.group_key = %s ORDER BY g.id DESC LIMIT 1"
    )


def group_reusable(batch: Batch, group: AlertGroup | None) -> bool:
    """A group takes new firing alerts until its incident closes or it stays resolved past
    the reopen window."""
    if group is None:
        return False
    incident = group.incident
    if incident is not None and incident.status == Status.CLOSED:
        return False
    if group.status != GroupStatus.RESOLVED:
        return True
    return group.resolved_at is not None and batch.at - group.resolved_at <= REOPEN_WINDOW


def _group_open(batch: Batch, key: str, item: AlertInput, *, silenced: bool) -> AlertGroup:
    """A new group, its incident opened first so the group row is written once."""
    group = AlertGroup(
        integration=batch.integration,
        group_key=key,
        status=GroupStatus.SILENCED if silenced else GroupStatus.TRIAGE,
        summary=item.summary,
        created_at=batch.at,
        # The alert that opens it, firing; group_settle corrects these if more join.
        alert_count=1,
        firing_count=1,
    )
    if not silenced:
        _group_incident_open(batch, group, item)
    group.pk = batch.id_take(AlertGroup)  # drawn: the INSERT may wait for the alert's
    row_insert(group)  # save(force_insert=True) without building the INSERT (core.rows)
    batch.groups[key] = group
    return group


def _mapping_for(batch: Batch, labels: Mapping[str, str]) -> MappingRule | None:
    return mapping_rule_for_labels(integration_id=batch.integration.pk, labels=labels)


def is_silenced(batch: Batch, labels: Mapping[str, str]) -> bool:
    return silence_matches(integration_id=batch.integration.pk, labels=labels, at=batch.at)


def _group_incident_open(batch: Batch, group: AlertGroup, item: AlertInput) -> None:
    """Open the incident for ``group`` on the mapped organisation, or leave it in triage
    (fields set, the caller saves the group)."""
    integration = batch.integration
    rule = _mapping_for(batch, item.labels)
    organisation = rule.organisation if rule else integration.organisation
    contract = rule.contract if rule else integration.contract
    group.organisation, group.contract = organisation, contract
    group.status = GroupStatus.TRIAGE
    if organisation is not None:
        severity, priority = SEVERITY_MAP[AlertSeverity(item.severity)]
        try:
            group.incident = ticket_create(
                actor=None,
                actor_label=integration.name,
                organisation=organisation,
                contract=contract,
                kind=TicketKind.INCIDENT,
                channel=Channel.MONITORING,
                subject=clip(item.summary or group.group_key, 300),
                description=_incident_description(item),
                severity=(rule.severity if rule and rule.severity else severity),
                priority=(rule.priority if rule and rule.priority else priority),
            )
            group.status = GroupStatus.FIRING
            batch.opened.add(group.incident.pk)
            batch.result.incidents.append(group.incident.reference)
            # The support centre's emergency network: page the on-call through the policy
            # for this team, contract and hour (no policy: the queues and SLA timers act).
            # Opened in this transaction: the cheap start (no running chain can exist yet).
            escalation_start(
                ticket=group.incident,
                reason=_("Monitoring alert: %(summary)s") % {"summary": clip(item.summary, 200)},
                new_ticket=True,
            )
        except InvalidInput:
            group.incident = None  # e.g. an inactive organisation: keep it in triage


def _incident_description(item: AlertInput) -> str:
    lines = [item.summary, ""]
    lines += [f"{k}: {v}" for k, v in sorted(item.annotations.items()) if v]
    if item.source_url:
        lines.append(item.source_url)
    return "\n".join(lines).strip()


def group_settle(batch: Batch, group: AlertGroup) -> None:
    """Recount the group; resolve its incident when nothing fires, reopen when it fires again."""
    joined = batch.fresh.get(group.pk)
    if joined is not None:
        # Opened by this call, so its alerts are the ones that joined it now, all firing
        # (others cannot see it before we commit): no recount, nothing to resolve.
        if joined != group.alert_count:
            group.alert_count = group.firing_count = joined
            group.save(update_fields=["alert_count", "firing_count"])
        return
    counts = Alert.objects.filter(group=group).aggregate(
        total=Count("id"),
        firing=Count("id", filter=Q(status=AlertStatus.FIRING)),
        flapping=Count("id", filter=Q(is_flapping=True)),
    )
    group.alert_count, group.firing_count = counts["total"], counts["firing"]
    fields = ["alert_count", "firing_count"]
    if group.firing_count == 0 and group.status == GroupStatus.FIRING:
        group.status, group.resolved_at = GroupStatus.RESOLVED, batch.at
        fields += ["status", "resolved_at"]
        if not counts["flapping"]:
            _incident_resolve(batch, group)
    elif group.firing_count > 0 and group.status == GroupStatus.RESOLVED:
        group.status, group.resolved_at = GroupStatus.FIRING, None
        fields += ["status", "resolved_at"]
        _incident_reopen(batch, group)  # firing is never hidden, flapping or not
    group.save(update_fields=fields)


def _incident_resolve(batch: Batch, group: AlertGroup) -> None:
    incident = group.incident
    if incident is None:
        return
    label = batch.integration.name
    if batch.integration.resolve_mode == ResolveMode.ANNOTATE:
        ticket_system_event_add(
            ticket=incident, actor_label=label, body=_("The source resolved every alert.")
        )
        return
    current = Ticket.objects.only("status").get(pk=incident.pk)
    if current.status not in (Status.RESOLVED, Status.CLOSED):
        group.incident = ticket_status_change(
            ticket=incident,
            actor=None,
            actor_label=label,
            status=Status.RESOLVED,
            comment=_("Resolved by the monitoring source."),
        )


def _incident_reopen(batch: Batch, group: AlertGroup) -> None:
    incident = group.incident
    if incident is None:
        return
    current = Ticket.objects.only("status").get(pk=incident.pk)
    if current.status == Status.RESOLVED:
        group.incident = ticket_status_change(
            ticket=incident,
            actor=None,
            actor_label=batch.integration.name,
            status=Status.OPEN,
            comment=_("The alert fired again."),
        )


def note(batch: Batch, group: AlertGroup, body: str, item: AlertInput) -> None:
    if group.incident_id is None:
        return
    data: dict[str, Any] = {
        "fingerprint": item.fingerprint,
        "status": item.status,
        "labels": item.labels,
        "annotations": item.annotations,
    }
    if len(json.dumps(data, ensure_ascii=False)) > TIMELINE_DATA_LIMIT:
        data = {"fingerprint": item.fingerprint, "status": item.status, "truncated": True}
    assert group.incident is not None  # noqa: S101 - checked through incident_id above
    ticket_system_event_add(
        new_ticket=group.incident.pk in batch.opened,
        ticket=group.incident,
        actor_label=batch.integration.name,
        body=body,
        data=data,
        pk=batch.id_take(TimelineEvent),
    )
