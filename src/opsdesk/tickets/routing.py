"""Routing: which teams take a ticket and who is assigned. See docs/subsystems/tickets.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import F, Max, Subquery

from opsdesk.core.clock import now
from opsdesk.oncall.enums import PolicyMode
from opsdesk.oncall.selectors import oncall_mode, oncall_who
from opsdesk.tenancy.enums import MemberRole, TeamKind
from opsdesk.tenancy.models import Contract, RoutingRule, Team, TeamMembership


@dataclass(frozen=True)
class Route:
    team: Team | None
    technical_team: Team | None
    assignee: User | None
    # "business" or "after_hours": which roster the assignee came from.
    mode: str = ""


def routing_rule_find(*, service_line: str, contract: Contract | None) -> RoutingRule | None:
    rules = RoutingRule.objects.select_related(
        "first_line_team", "technical_team", "fixed_assignee"
    ).filter(service_line=service_line)
    if contract is not None:
        specific = rules.filter(contract=contract).first()
        if specific is not None:
            return specific
    return rules.filter(contract__isnull=True).first()


def round_robin_pick(*, team: Team, among: list[int] | None = None) -> User | None:
    """The available member of ``team`` who was assigned longest ago (never-assigned first).

    Must run inside the caller's transaction: the membership row is locked and stamped so
    two tickets created at once go to two different people.
    """
    # The team's latest stamp comes along as a subquery: the new stamp must be strictly
    # later than anyone's, so the order holds even when two assignments share a clock
    # reading (coarse clocks, frozen time in tests).
    latest = (
        TeamMembership.objects.filter(team=team)
        .order_by()
        .values("team")
        .annotate(m=Max("last_assigned_at"))
        .values("m")
    )
    candidates = (
        TeamMembership.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            team=team,
            role__in=[MemberRole.AGENT, MemberRole.ENGINEER],
            user__is_active=True,
            user__staff_profile__is_active=True,
            user__staff_profile__is_available=True,
        )
        .select_related("user__staff_profile")
        .annotate(team_latest=Subquery(latest))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    if among is not None:
        candidates = candidates.filter(user_id__in=among)
    membership = candidates.first()
    if membership is None:
        return None
    stamp = now()
    team_latest = membership.team_latest
    if team_latest is not None and team_latest >= stamp:
        stamp = team_latest + timedelta(microseconds=1)
    TeamMembership.objects.filter(pk=membership.pk).update(last_assigned_at=stamp)
    return membership.user


def roster_pick(*, team: Team) -> tuple[User | None, str]:
    """The procedure's two regimes: in business hours the on-site roster (round-robin among
    those on site), after hours, at weekends and on public holidays the person on call.
    Teams without schedules fall back to round-robin among all available members."""
    at = now()
    mode = oncall_mode(at=at)
    people = oncall_who(team=team, at=at, mode=mode)
    if people and mode == PolicyMode.AFTER_HOURS:
        return people[0], mode
    picked = round_robin_pick(team=team, among=[p.pk for p in people] if people else None)
    return picked or (people[0] if people else None), mode


def triage_team() -> Team | None:
    """Where tickets that no rule matches go: the first first-line team (service operations
    in the seeded set-up), so nothing lands outside every queue."""
    return Team.objects.filter(kind=TeamKind.FIRST_LINE).order_by("id").first()


def route_resolve(*, service_line: str, contract: Contract | None, auto_assign: bool) -> Route:
    rule = routing_rule_find(service_line=service_line, contract=contract) if service_line else None
    team = rule.first_line_team if rule is not None else triage_team()
    assignee = rule.fixed_assignee if rule is not None else None
    mode = ""
    if assignee is None and auto_assign and team is not None:
        assignee, mode = roster_pick(team=team)
    return Route(
        team=team,
        technical_team=rule.technical_team if rule is not None else None,
        assignee=assignee,
        mode=mode,
    )
