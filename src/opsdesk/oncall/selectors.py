"""On-call reads: who is on call, policy selection, recipients (docs/subsystems/oncall.md)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import CharField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_cached, config_stamp
from opsdesk.core.errors import NotFound, PermissionDenied
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.notify.models import Delivery
from opsdesk.oncall.enums import PolicyMode, ScheduleKind, StepKind
from opsdesk.oncall.models import (
    Escalation,
    EscalationPolicy,
    EscalationStep,
    MobilisationResponse,
    Override,
    Schedule,
)
from opsdesk.oncall.rotation import Cover, Layer, Shift, schedule_on_call, schedule_shifts
from opsdesk.sla.calendar import is_business_time
from opsdesk.sla.selectors import calendar_load
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.models import Team
from opsdesk.tenancy.selectors import staff_scope, staff_users_active
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import access_ticket


def _layers(schedule: Schedule) -> list[Layer]:
    zone = ZoneInfo(schedule.timezone)
    return [
        Layer(
            order=r.order,
            participants=tuple(int(p) for p in r.participants),
            first_handoff=datetime.combine(r.start_date, r.handoff_time, tzinfo=zone),
            length=timedelta(hours=r.length_hours),
        )
        for r in schedule.rotations.all()
    ]


def _covers_at(schedule_id: int, at: datetime) -> list[Cover]:
    overrides = Override.objects.filter(schedule_id=schedule_id, starts_at__lte=at, ends_at__gt=at)
    return [
        Cover(user_id=o.user_id, starts_at=o.starts_at, ends_at=o.ends_at)
        for o in overrides.order_by("id")
    ]


def schedule_who(*, schedule: Schedule, at: datetime) -> list[User]:
    return _on_call(_layers(schedule), _covers_at(schedule.pk, at), at)


def _on_call(layers: list[Layer], covers: list[Cover], at: datetime) -> list[User]:
    """Who a schedule's layers and covers put on call at ``at``, in the rotation's order:
    active users with their staff profiles, in one query."""
    ids = schedule_on_call(layers, covers, at)
    people = staff_users_active(user_ids=ids)
    return [people[i] for i in ids if i in people]


def oncall_mode(*, at: datetime) -> str:
    """Business hours of the default calendar, or after hours (nights, weekends, holidays)."""
    business = is_business_time(calendar_load(), at)
    return PolicyMode.BUSINESS if business else PolicyMode.AFTER_HOURS


@dataclass(frozen=True)
class _CachedSchedule:
    pk: int
    kind: str
    layers: tuple[Layer, ...]
    # Overrides that had not ended when the cache was built.
    covers: tuple[Cover, ...]


@dataclass(frozen=True)
class _ScheduleTable:
    by_team: dict[int, list[_CachedSchedule]]
    # Overrides that ended before this are not in the table.
    built_at: datetime


def _schedule_table() -> _ScheduleTable:
    """Every schedule with its layers and current or future overrides, from the process
    cache (core.configcache; the schedule tables are registered in OncallConfig)."""
    config_stamp()

    def build() -> _ScheduleTable:
        built_at = now()
        rows = list(Schedule.objects.prefetch_related("rotations").order_by("id"))
        covers: dict[int, list[Cover]] = {row.pk: [] for row in rows}
        for o in Override.objects.filter(ends_at__gt=built_at).order_by("id"):
            covers[o.schedule_id].append(
                Cover(user_id=o.user_id, starts_at=o.starts_at, ends_at=o.ends_at)
            )
        by_team: dict[int, list[_CachedSchedule]] = {}
        for row in rows:
            by_team.setdefault(row.team_id, []).append(
                _CachedSchedule(
                    pk=row.pk,
                    kind=row.kind,
                    layers=tuple(_layers(row)),
                    covers=tuple(covers[row.pk]),
                )
            )
        return _ScheduleTable(by_team=by_team, built_at=built_at)

    return config_cached(("oncall-schedules",), build)


def oncall_who(*, team: Team, at: datetime, mode: str | None = None) -> list[User]:
    """The on-site roster in business hours, the on-call rotation after hours; the other kind
    of schedule stands in when the team has only one. ``mode``: the caller's oncall_mode for
    ``at``, when it has it already."""
    mode = mode or oncall_mode(at=at)
    wanted = ScheduleKind.ON_SITE if mode == PolicyMode.BUSINESS else ScheduleKind.ON_CALL
    table = _schedule_table()
    team_schedules = table.by_team.get(team.pk, [])
    schedules = sorted(team_schedules, key=lambda s: (s.kind != wanted, s.pk))
    for schedule in schedules:
        if at >= table.built_at:
            covers = [c for c in schedule.covers if c.starts_at <= at < c.ends_at]
        else:  # a moment in the past: overrides that have ended since are not cached
            covers = _covers_at(schedule.pk, at)
        people = _on_call(list(schedule.layers), covers, at)
        if people:
            return people
    return []


# A policy with its frozen snapshot (see _snapshot): what a chain runs by.
_Entry = tuple[EscalationPolicy, dict[str, Any]]


@dataclass(frozen=True)
class _PolicyTable:
    # Active policies by id order.
    policies: tuple[_Entry, ...]


def _policy_table() -> _PolicyTable:
    config_stamp()

    def build() -> _PolicyTable:
        rows = list(EscalationPolicy.objects.filter(is_active=True).order_by("id"))
        steps: dict[int, list[EscalationStep]] = {row.pk: [] for row in rows}
        for step in EscalationStep.objects.filter(policy__is_active=True).order_by("order", "id"):
            steps[step.policy_id].append(step)
        return _PolicyTable(policies=tuple((row, _snapshot(row, steps[row.pk])) for row in rows))

    return config_cached(("oncall-policies",), build)


def policy_select(
    *, ticket: Ticket, at: datetime
) -> tuple[EscalationPolicy, dict[str, Any]] | None:
    """The most specific active policy: contract beats team beats mode; ties by id. With
    its snapshot (a copy the caller may change), from the process cache of configuration
    (core.configcache)."""
    found = _policy_entry(ticket=ticket, at=at)
    if found is None:
        return None
    policy, snapshot = found
    return copy.copy(policy), copy.deepcopy(snapshot)


def _policy_entry(
    *, ticket: Ticket, at: datetime
) -> tuple[EscalationPolicy, dict[str, Any]] | None:
    teams = {t for t in (ticket.team_id, ticket.technical_team_id) if t}
    modes = {PolicyMode.ANY, oncall_mode(at=at)}
    candidates = [
        (policy, snapshot)
        for policy, snapshot in _policy_table().policies
        if (policy.team_id is None or policy.team_id in teams)
        and (policy.contract_id is None or policy.contract_id == ticket.contract_id)
        and policy.mode in modes
    ]

    def score(entry: _Entry) -> int:
        policy = entry[0]
        return (
            4 * (policy.contract_id is not None)
            + 2 * (policy.team_id is not None)
            + (policy.mode != PolicyMode.ANY)
        )

    return max(candidates, key=score, default=None)


def _snapshot(policy: EscalationPolicy, steps: list[EscalationStep]) -> dict[str, Any]:
    return {
        "policy_id": policy.pk,
        "name": policy.name,
        "repeat_count": policy.repeat_count,
        "steps": [
            {
                "kind": s.kind,
                "user_id": s.user_id,
                "team_id": s.team_id,
                "delay_minutes": s.delay_minutes,
            }
            for s in steps
        ],
    }


# Recipients per step kind: (step snapshot, ticket, instant) -> people.
Resolver = Callable[[dict[str, Any], Ticket, datetime], list[User]]


def _step_team(step: dict[str, Any], ticket: Ticket) -> Team | None:
    team_id = step.get("team_id") or ticket.technical_team_id or ticket.team_id
    return Team.objects.filter(pk=team_id).first() if team_id else None


def _oncall(step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    team = _step_team(step, ticket)
    return oncall_who(team=team, at=at) if team else []


def _user(step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    return list(User.objects.filter(pk=int(step.get("user_id") or 0), is_active=True))


def _members(step: dict[str, Any], ticket: Ticket, roles: list[str] | None) -> list[User]:
    team = _step_team(step, ticket)
    if team is None:
        return []
    people = User.objects.filter(memberships__team=team, is_active=True)
    if roles is not None:
        people = people.filter(memberships__role__in=roles)
    return list(people.distinct().order_by("id"))


def _team(step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    return _members(step, ticket, None)


def _lead(step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    return _members(step, ticket, [MemberRole.TEAM_LEAD])


def _centre_head(step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    return list(
        User.objects.filter(staff_profile__role=StaffRole.CENTRE_HEAD, is_active=True).order_by(
            "id"
        )
    )


STEP_RESOLVERS: dict[str, Resolver] = {
    StepKind.NOTIFY_ONCALL: _oncall,
    StepKind.NOTIFY_USER: _user,
    StepKind.NOTIFY_TEAM: _team,
    StepKind.NOTIFY_TEAM_LEAD: _lead,
    StepKind.NOTIFY_CENTRE_HEAD: _centre_head,
}


def step_recipients(*, step: dict[str, Any], ticket: Ticket, at: datetime) -> list[User]:
    return STEP_RESOLVERS[step["kind"]](step, ticket, at)


def escalation_active_for(*, ticket: Ticket) -> Escalation | None:
    return Escalation.objects.filter(ticket=ticket, state="active").first()


def access_escalation(*, actor: User, escalation_id: int) -> Escalation:
    """The escalation if the actor may see its ticket, else NotFound."""
    escalation = Escalation.objects.select_related("ticket").filter(pk=escalation_id).first()
    if escalation is None:
        raise NotFound(_("No such escalation."))
    access_ticket(actor=actor, reference=escalation.ticket.reference)
    return escalation


def team_for_who(*, actor: User, slug: str) -> Team:
    staff_scope(user=actor)
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise NotFound(_("No such team."))
    return team


def access_schedule_manage(*, actor: User, schedule_id: int) -> Schedule:
    """A schedule the actor may change: everyone's for the centre head and administrators,
    their own team's for a team lead; NotFound or PermissionDenied otherwise."""
    scope = staff_scope(user=actor)
    schedule = Schedule.objects.select_related("team").filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound(_("No such schedule."))
    if scope.sees_everything or actor.is_superuser:
        return schedule
    if actor.memberships.filter(team=schedule.team, role=MemberRole.TEAM_LEAD).exists():
        return schedule
    raise PermissionDenied(_("Only the team's lead or the centre head can change its schedule."))


def schedule_list() -> list[Schedule]:
    return list(Schedule.objects.select_related("team").order_by("team__slug", "name", "id"))


def schedule_shift_list(*, schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    covers = [
        Cover(user_id=o.user_id, starts_at=o.starts_at, ends_at=o.ends_at)
        for o in schedule.overrides.filter(starts_at__lt=end, ends_at__gt=start)
    ]
    return schedule_shifts(_layers(schedule), covers, start, end)


def coverage_gaps(*, team: Team, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Stretches of ``start``–``end`` when nobody is on call for the team. ``oncall_who``
    falls back from one kind of schedule to the other, so one covered schedule is enough."""
    covered = []
    for schedule in Schedule.objects.filter(team=team).prefetch_related("rotations"):
        active = _active_ids(schedule)
        covered += [
            (shift.starts_at, shift.ends_at)
            for shift in schedule_shift_list(schedule=schedule, start=start, end=end)
            if shift.user_id in active
        ]
    covered.sort()
    gaps = []
    cursor = start
    for begins, ends in covered:
        if begins > cursor:
            gaps.append((cursor, begins))
        cursor = max(cursor, ends)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _active_ids(schedule: Schedule) -> set[int]:
    ids = {int(p) for r in schedule.rotations.all() for p in r.participants}
    ids |= set(schedule.overrides.values_list("user_id", flat=True))
    return set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))


# --- the ticket page's escalation panel ------------------------------------------------


def ticket_escalation_list(*, ticket: Ticket, limit: int = 5) -> list[Escalation]:
    """The ticket's latest escalations in one query, each annotated with ``next_due_at`` (its
    pending step timer) and ``mobilised`` (anyone answered a mobilisation)."""
    step_timer = Timer.objects.filter(
        key=Concat(Value("esc:"), Cast(OuterRef("pk"), output_field=CharField())),
        state=TimerState.PENDING,
    )
    return list(
        Escalation.objects.filter(ticket=ticket)
        .select_related("acknowledged_by__staff_profile")
        .annotate(
            next_due_at=Subquery(step_timer.values("due_at")[:1]),
            mobilised=Exists(MobilisationResponse.objects.filter(escalation=OuterRef("pk"))),
        )
        .order_by("-id")[:limit]
    )


def escalation_delivery_list(*, escalations: list[Escalation]) -> list[Delivery]:
    """Every message the escalations sent, oldest first, in one query."""
    sources = [f"escalation:{e.pk}" for e in escalations]
    return list(
        Delivery.objects.filter(source__in=sources)
        .select_related("user__staff_profile")
        .order_by("id")
    )


def escalation_response_list(*, escalations: list[Escalation]) -> list[MobilisationResponse]:
    return list(
        MobilisationResponse.objects.filter(escalation__in=escalations)
        .select_related("user__staff_profile")
        .order_by("id")
    )
