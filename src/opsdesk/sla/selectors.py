"""Reads for SLA calendars and policies (docs/subsystems/sla.md).

``calendar_load`` builds the pure ``calendar.BusinessCalendar`` from the database and
``policy_snapshot_for`` freezes a policy with its targets and calendar. Both are cached per
process under the *configuration stamp* of ``core.configcache`` (the policy, target,
calendar and calendar-day tables are registered in ``SlaConfig.ready``), read with one small
query at most once per OPSDESK_CONFIG_CACHE_SECONDS and per ``config_scope`` (the ticket's
contract policy, when asked, comes in the same query). An admin's change through the admin
or the services (which save rows, bumping ``updated_at``) is seen at once by the process that
made it and within that interval by the others (decision 0007). A bare
``QuerySet.update()`` on these tables would not be seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from opsdesk.core import clock
from opsdesk.core.configcache import config_cached, config_stamp
from opsdesk.core.errors import NotFound
from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import Clock, PolicySnapshot, TargetSnapshot, TicketFacts, compute_clocks
from opsdesk.sla.enums import CalendarDayKind, Metric
from opsdesk.sla.holiday_names import country_holidays
from opsdesk.sla.models import BusinessCalendar, CalendarDay, SlaPolicy, SlaTarget
from opsdesk.tenancy.models import Contract
from opsdesk.tickets.enums import Status
from opsdesk.tickets.models import Ticket, TimelineEvent

DEFAULT_CALENDAR = "default"
# Years of public holidays loaded around the current year (before, after).
YEARS_BEFORE, YEARS_AFTER = 3, 5


def calendar_get(*, name: str) -> BusinessCalendar:
    try:
        return BusinessCalendar.objects.get(name=name)
    except BusinessCalendar.DoesNotExist:
        raise NotFound(f"no business calendar named {name!r}") from None


def _default_years() -> range:
    year = clock.now().year
    return range(year - YEARS_BEFORE, year + YEARS_AFTER + 1)


def _weekly(row: BusinessCalendar) -> tuple[bt.DayHours, ...]:
    hours: Mapping[str, Any] = row.weekly_hours or {}
    return tuple(bt.parse_day_hours(hours.get(key, [])) for key in bt.WEEKDAY_KEYS)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _lunch(row: BusinessCalendar) -> bt.Interval | None:
    if row.lunch_start is None or row.lunch_end is None:
        return None
    return (_minutes(row.lunch_start), _minutes(row.lunch_end))


def calendar_holidays(*, row: BusinessCalendar, years: range) -> dict[date, str]:
    """Days off of a calendar in ``years``: public holidays plus admin days, minus special
    working days; an admin day's name replaces the library's name for the same date."""
    table = country_holidays(row.country_holidays, years)
    for day in CalendarDay.objects.filter(calendar=row, date__year__in=list(years)):
        if day.kind == CalendarDayKind.WORKING_DAY:
            table.pop(day.date, None)
        else:
            table[day.date] = day.name or table.get(day.date, "")
    return dict(sorted(table.items()))


def _special_days(row: BusinessCalendar, weekly: tuple[bt.DayHours, ...]) -> dict[date, Any]:
    special: dict[date, bt.DayHours] = {}
    days = CalendarDay.objects.filter(calendar=row, kind=CalendarDayKind.WORKING_DAY)
    for day in days:
        special[day.date] = bt.parse_day_hours(day.hours) if day.hours else weekly[0]
    return special


def calendar_build(*, row: BusinessCalendar, years: range | None = None) -> bt.BusinessCalendar:
    """The pure calendar of a row (no caching)."""
    years = years or _default_years()
    weekly = _weekly(row)
    return bt.BusinessCalendar(
        tz=row.time_zone,
        weekly=weekly,
        holidays=frozenset(calendar_holidays(row=row, years=years)),
        special_days=_special_days(row, weekly),
        lunch=_lunch(row),
        is_24x7=row.is_24x7,
        name=row.name,
    )


def _contract_policy_sql() -> str:
    contract = connection.ops.quote_name(Contract._meta.db_table)
    column = connection.ops.quote_name(Contract._meta.get_field("sla_policy").column)
    return f"SELECT {column} FROM {contract} WHERE id = %s"  # noqa: S608 - names from models


def _stamp(contract_id: int | None = None) -> tuple[tuple[Any, ...], int | None]:
    """The configuration stamp (core.configcache) and, for ``contract_id``, that contract's
    SLA policy id, read in the same query."""
    if contract_id is None:
        return config_stamp()
    stamp, policy_id = config_stamp(extra=_contract_policy_sql(), params=[contract_id])
    return stamp, policy_id


def _cached(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    return config_cached(("sla", *key), build)


def calendar_load(
    name: str = DEFAULT_CALENDAR, *, years: range | None = None
) -> bt.BusinessCalendar:
    """The pure calendar named ``name``, cached per process until the configuration changes."""
    _stamp()
    return _calendar_cached(name, years or _default_years())


def _calendar_cached(name: str, years: range) -> bt.BusinessCalendar:
    def build() -> bt.BusinessCalendar:
        return calendar_build(row=calendar_get(name=name), years=years)

    calendar: bt.BusinessCalendar = _cached(("calendar", name, years.start, years.stop), build)
    return calendar


def _fallback_targets(policy: SlaPolicy) -> tuple[TargetSnapshot, ...]:
    return (
        TargetSnapshot(metric=Metric.FIRST_RESPONSE, minutes=policy.first_response_minutes),
        TargetSnapshot(
            metric=Metric.RECOVERY,
            minutes=policy.recovery_minutes,
            kind="incident",
            severity="complex",
        ),
        TargetSnapshot(metric=Metric.RESOLUTION, minutes=policy.resolution_minutes),
    )


def policy_snapshot(*, policy: SlaPolicy) -> PolicySnapshot:
    """Freeze a policy, its targets and its calendar into plain dataclasses for ``clocks``
    (not cached: see :func:`policy_snapshot_for` for the cached snapshot)."""
    calendar_name = policy.calendar.name if policy.calendar is not None else DEFAULT_CALENDAR
    return _snapshot(policy, list(policy.targets.order_by("id")), calendar_load(calendar_name))


def _snapshot(
    policy: SlaPolicy, targets: list[SlaTarget], calendar: bt.BusinessCalendar
) -> PolicySnapshot:
    frozen = tuple(
        TargetSnapshot(
            metric=target.metric,
            minutes=target.minutes,
            kind=target.kind,
            priority=target.priority,
            severity=target.severity,
            business_time=target.business_time,
            after_hours_minutes=target.after_hours_minutes,
            pause_on_customer=target.pause_on_customer,
            pause_on_vendor=target.pause_on_vendor,
        )
        for target in targets
    )
    return PolicySnapshot(
        name=policy.name,
        calendar=calendar,
        targets=frozen or _fallback_targets(policy),
        warn_at_percent=policy.warn_at_percent,
    )


@dataclass(frozen=True)
class PolicySet:
    """Every policy, frozen, for one configuration stamp."""

    by_id: dict[int, PolicySnapshot]
    by_name: dict[str, PolicySnapshot]

    def for_contract(self, contract_policy_id: int | None) -> PolicySnapshot | None:
        """The contract's policy, else the site default (settings OPSDESK DEFAULT_SLA_POLICY);
        the same choice as :func:`policy_for_contract`."""
        found = self.by_id.get(contract_policy_id) if contract_policy_id is not None else None
        return found or self.by_name.get(str(settings.OPSDESK["DEFAULT_SLA_POLICY"]))


def _policy_set() -> PolicySet:
    years = _default_years()

    def build() -> PolicySet:
        rows = list(SlaPolicy.objects.select_related("calendar").order_by("id"))
        targets: dict[int, list[SlaTarget]] = {row.pk: [] for row in rows}
        for target in SlaTarget.objects.order_by("id"):
            targets[target.policy_id].append(target)
        by_id = {
            row.pk: _snapshot(
                row,
                targets[row.pk],
                _calendar_cached(row.calendar.name if row.calendar else DEFAULT_CALENDAR, years),
            )
            for row in rows
        }
        return PolicySet(by_id=by_id, by_name={by_id[row.pk].name: by_id[row.pk] for row in rows})

    policies: PolicySet = _cached(("policies", years.start, years.stop), build)
    return policies


def policy_set() -> PolicySet:
    """Every policy as a snapshot, cached per process until the configuration changes (one
    query to check); for bulk work."""
    _stamp()
    return _policy_set()


def _contract_policy_id(ticket: Ticket) -> tuple[bool, int | None]:
    """(known, id): the contract's policy id when it can be had without a query."""
    if ticket.contract_id is None:
        return True, None
    if Ticket._meta.get_field("contract").is_cached(ticket):
        return True, ticket.contract.sla_policy_id if ticket.contract else None
    return False, None


def policy_snapshot_for(*, ticket: Ticket) -> PolicySnapshot | None:
    """The frozen policy that governs the ticket (its contract's, else the default), from the
    process cache: one query, which also reads the contract's policy when not loaded."""
    known, policy_id = _contract_policy_id(ticket)
    _, read_id = _stamp(None if known else ticket.contract_id)
    return _policy_set().for_contract(policy_id if known else read_id)


def policy_for_contract(*, contract_policy_id: int | None) -> SlaPolicy | None:
    """The contract's policy, else the site default (settings OPSDESK DEFAULT_SLA_POLICY)."""
    qs = SlaPolicy.objects.select_related("calendar")
    if contract_policy_id is not None:
        found = qs.filter(pk=contract_policy_id).first()
        if found is not None:
            return found
    return qs.filter(name=settings.OPSDESK["DEFAULT_SLA_POLICY"]).first()


# The statuses a timeline event can move a ticket to.
KNOWN_STATUSES = frozenset(Status.values)


def status_changes_query(*fields: str) -> QuerySet[TimelineEvent, tuple[Any, ...]]:
    """``fields`` and the new status as text of the timeline events that changed the status:
    the one definition of a status change, shared by one ticket's and many tickets' reads.
    Callers keep only known statuses (``KNOWN_STATUSES``; the services write nothing else).
    The opening's "to new" is left out: every clock starts in ``new`` and no transition leads
    back to it, so it changes nothing (and is a third of the rows a bulk read would see)."""
    return (
        TimelineEvent.objects.filter(changes__has_key="status")
        .exclude(changes__status__after=Status.NEW.value)
        .values_list(*fields, KT("changes__status__after"))
    )


def ticket_facts(*, ticket: Ticket, trust_new: bool = False) -> TicketFacts:
    """The timeline, reduced to what the clocks need: every status change with its time.

    With ``trust_new``, a ticket whose row says ``new`` is taken to have no status change
    (no transition leads back to ``new``) and the timeline is not read: for the writes that
    hold the row they just saved (``ticket_sla_refresh``). Reads from the timeline otherwise,
    so a page showing clocks costs the same queries whatever the ticket's status."""
    if trust_new and ticket.status == Status.NEW:
        changes: list[tuple[datetime, str]] = []
    else:
        rows = status_changes_query("created_at").filter(ticket=ticket).order_by("created_at", "id")
        changes = [(at, status) for at, status in rows if status in KNOWN_STATUSES]
    return ticket_facts_from(ticket=ticket, status_changes=tuple(changes))


def ticket_facts_from(
    *, ticket: Ticket, status_changes: tuple[tuple[datetime, str], ...]
) -> TicketFacts:
    """The facts of a ticket row with the given status changes (see ``status_changes_query``)."""
    return TicketFacts(
        kind=ticket.kind,
        priority=ticket.priority,
        severity=ticket.severity,
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        status_changes=status_changes,
    )


def ticket_clocks(*, ticket: Ticket, now: datetime | None = None) -> dict[str, Clock]:
    """Every SLA clock of the ticket, recomputed from its timeline."""
    policy = policy_snapshot_for(ticket=ticket)
    if policy is None:
        return {}
    return compute_clocks(policy, ticket_facts(ticket=ticket), now or clock.now())
