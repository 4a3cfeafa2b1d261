"""Routing: which teams take a ticket and who is assigned. See docs/subsystems/tickets.md."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import F

from opsdesk.core.clock import now
from opsdesk.tenancy.enums import MemberRole, TeamKind
from opsdesk.tenancy.models import Contract, RoutingRule, Team, TeamMembership


@dataclass(frozen=True)
class Route:
    team: Team | None
    technical_team: Team | None
    assignee: User | None


def routing_rule_find(*, service_line: str, contract: Contract | None) -> RoutingRule | None:
    rules = RoutingRule.objects.select_related(
        "first_line_team", "technical_team", "fixed_assignee"
    ).filter(service_line=service_line)
    if contract is not None:
        specific = rules.filter(contract=contract).first()
        if specific is not None:
            return specific
    return rules.filter(contract__isnull=True).first()


def round_robin_pick(*, team: Team) -> User | None:
    """The available member of ``team`` who was assigned longest ago (never-assigned first).

    Must run inside the caller's transaction: the membership row is locked and stamped so
    two tickets created at once go to two different people.
    """
    candidates = (
        TeamMembership.objects.select_for_update(skip_locked=True)
        .filter(
            team=team,
            role__in=[MemberRole.AGENT, MemberRole.ENGINEER],
            user__is_active=True,
            user__staff_profile__is_active=True,
            user__staff_profile__is_available=True,
        )
        .select_related("user")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    membership = candidates.first()
    if membership is None:
        return None
    membership.last_assigned_at = now()
    membership.save(update_fields=["last_assigned_at"])
    return membership.user


def triage_team() -> Team | None:
    """Where tickets that no rule matches go: the first first-line team (service operations
    in the seeded set-up), so nothing lands outside every queue."""
    return Team.objects.filter(kind=TeamKind.FIRST_LINE).order_by("id").first()


def route_resolve(*, service_line: str, contract: Contract | None, auto_assign: bool) -> Route:
    rule = routing_rule_find(service_line=service_line, contract=contract) if service_line else None
    if rule is None:
        team = triage_team()
        assignee = round_robin_pick(team=team) if team is not None and auto_assign else None
        return Route(team=team, technical_team=None, assignee=assignee)
    assignee = rule.fixed_assignee
    if assignee is None and auto_assign:
        assignee = round_robin_pick(team=rule.first_line_team)
    return Route(team=rule.first_line_team, technical_team=rule.technical_team, assignee=assignee)
