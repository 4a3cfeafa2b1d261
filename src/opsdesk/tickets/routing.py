"""Routing: which teams take a ticket and who is assigned. See docs/subsystems/tickets.md."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_cached, config_stamp
from opsdesk.core.rows import draws_pending, kept_cursor
from opsdesk.oncall.enums import PolicyMode
from opsdesk.oncall.selectors import oncall_mode, oncall_who
from opsdesk.tenancy.enums import MemberRole, TeamKind
from opsdesk.tenancy.models import Contract, RoutingRule, StaffProfile, Team, TeamMembership
from opsdesk.tenancy.selectors import STAFF_USER, staff_user_by_id, staff_user_from_row


@dataclass(frozen=True)
class Route:
    team: Team | None
    technical_team: Team | None
    assignee: User | None
    # "business" or "after_hours": which roster the assignee came from.
    mode: str = ""


@dataclass(frozen=True)
class _RoutingTable:
    """Routing rules and teams, as read for one configuration stamp (core.configcache)."""

    teams: dict[int, Team]
    # (service line, contract id or None) -> (first-line team, technical team, fixed assignee)
    rules: dict[tuple[str, int | None], tuple[int, int | None, int | None]]
    triage_team_id: int | None


def _routing_table() -> _RoutingTable:
    config_stamp()

    def build() -> _RoutingTable:
        teams = {team.pk: team for team in Team.objects.order_by("id")}
        rules: dict[tuple[str, int | None], tuple[int, int | None, int | None]] = {
            (line, contract): (first, technical, fixed)
            for line, contract, first, technical, fixed in RoutingRule.objects.values_list(
                "service_line",
                "contract_id",
                "first_line_team_id",
                "technical_team_id",
                "fixed_assignee_id",
            )
        }
        triage = next((t.pk for t in teams.values() if t.kind == TeamKind.FIRST_LINE), None)
        return _RoutingTable(teams=teams, rules=rules, triage_team_id=triage)

    return config_cached(("routing",), build)


def _team(table: _RoutingTable, team_id: int | None) -> Team | None:
    # A copy: the cached instance is shared by every ticket this process opens, and a
    # ticket's related objects may be changed by its caller.
    team = table.teams.get(team_id) if team_id is not None else None
    return copy.copy(team) if team is not None else None


def routing_rule_find(*, service_line: str, contract: Contract | None) -> RoutingRule | None:
    """The contract's rule for the line, else the line's general rule (unsaved copies built
    from the process cache, with their teams attached)."""
    table = _routing_table()
    key: tuple[str, int | None] | None = None
    if contract is not None and (service_line, contract.pk) in table.rules:
        key = (service_line, contract.pk)
    elif (service_line, None) in table.rules:
        key = (service_line, None)
    if key is None:
        return None
    first, technical, fixed = table.rules[key]
    rule = RoutingRule(
        service_line=service_line,
        contract_id=key[1],
        first_line_team_id=first,
        technical_team_id=technical,
        fixed_assignee_id=fixed,
    )
    rule.first_line_team = _team(table, first)  # type: ignore[assignment]
    rule.technical_team = _team(table, technical)
    return rule


@lru_cache(maxsize=64)
def _round_robin_sql_built(vendor: str, among: int, relaxed: bool, draws: int) -> str:
    """The next member of a team: membership id, the team's latest stamp, then the user's
    and their profile's columns (``STAFF_USER``).

    Written out rather than built by the ORM: it runs for every ticket opened in business
    hours, and building the equivalent queryset cost several times its execution.

    On PostgreSQL the same statement also stamps the membership, with the stamp as its last
    parameter; ``relaxed``: the statement is its own transaction (an opening outside any
    caller's, tickets.services.lifecycle) and commits without waiting for the flush to disk:
    a stamp lost in a crash only moves the rotation on by one. ``draws``: that many
    sequence values come after the columns (``core.rows.draws_pending``), their names the
    last parameters; the statement then gives one row even when nobody is free (the
    member's columns NULL), so the draws are not lost to an empty team."""
    tm = TeamMembership._meta.db_table
    user = User._meta.db_table
    profile = StaffProfile._meta.db_table
    in_among = f"AND m.user_id IN ({', '.join(['%s'] * among)})" if among else ""
    lock = ""
    if connection.features.has_select_for_update_skip_locked:
        lock = "FOR UPDATE OF m SKIP LOCKED"
    pick = (
        f"SELECT m.id AS membership, (SELECT MAX(last_assigned_at) FROM {tm} WHERE team_id = %s) "  # noqa: S608 - names from models
        f"AS latest, {STAFF_USER.columns()} "
        f"FROM {tm} m JOIN {user} u ON u.id = m.user_id JOIN {profile} p ON p.user_id = u.id "
        f"WHERE m.team_id = %s AND m.role IN (%s, %s) AND u.is_active AND p.is_active "
        f"AND p.is_available {in_among} "
        f"ORDER BY m.last_assigned_at IS NOT NULL, m.last_assigned_at, m.id LIMIT 1 {lock}"
    )
    if vendor != "postgresql":
        return pick
    # One round trip instead of two: the stamp is the later of now and just after the
    # team's latest (see round_robin_pick), written by a data-modifying CTE.
    relax = ", relaxed AS (SELECT set_config('synchronous_commit', 'off', true))"
    # With draws riding along, one row even when the pick finds nobody.
    select = "SELECT * FROM pick"
    if draws:
        select = (
            "SELECT pick.*"  # noqa: S608 - fixed text
            + ", nextval(%s::regclass)" * draws
            + " FROM (SELECT 1) AS one LEFT JOIN pick ON true"
        )
    return (
        f"WITH pick AS ({pick}){relax if relaxed else ''}, stamped AS (UPDATE {tm} SET "  # noqa: S608 - names from models
        "last_assigned_at = GREATEST(%s::timestamptz, pick.latest + interval '1 microsecond') "
        f"FROM pick{', relaxed' if relaxed else ''} WHERE {tm}.id = pick.membership) {select}"
    )


def _aware(value: datetime | str | None) -> datetime | None:
    # SQLite hands back an aggregate over a datetime column as text (naive UTC).
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and is_naive(value):
        value = make_aware(value, UTC)
    return value


def round_robin_pick(*, team: Team, among: list[int] | None = None) -> User | None:
    """The available member of ``team`` who was assigned longest ago (never-assigned first).

    The membership row is locked (skipping rows others hold) and stamped in the caller's
    transaction, or on PostgreSQL in the one statement that picks it, so two tickets created
    at once go to two different people.
    """
    if among is not None and not among:
        return None
    # The team's latest stamp comes along: the new stamp must be strictly later than
    # anyone's, so the order holds even when two assignments share a clock reading (coarse
    # clocks, frozen time in tests).
    roles = [MemberRole.AGENT.value, MemberRole.ENGINEER.value]
    params: list[Any] = [team.pk, team.pk, *roles, *(among or [])]
    stamp = now()
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: one context-local lookup, not six
    stamped_at_once = conn.vendor == "postgresql"
    if stamped_at_once:
        params.append(conn.ops.adapt_datetimefield_value(stamp))
    relaxed = stamped_at_once and not conn.in_atomic_block
    # The opening's ids and reference ride along when it offers them (one round trip less).
    ahead = draws_pending() if stamped_at_once else None
    draws = len(ahead.names) if ahead is not None else 0
    if ahead is not None:
        params += ahead.names
    with kept_cursor() as cursor:
        sql = _round_robin_sql_built(conn.vendor, len(among or []), relaxed, draws)
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        if ahead is not None:
            ahead.values = [int(value) for value in row[len(row) - draws :]]
            row = row[: len(row) - draws]
            if row[0] is None:
                return None  # nobody free; the draws still count
        if not stamped_at_once:
            membership_id, team_latest = row[0], _aware(row[1])
            if team_latest is not None and team_latest >= stamp:
                stamp = team_latest + timedelta(microseconds=1)
            cursor.execute(
                f"UPDATE {TeamMembership._meta.db_table} SET last_assigned_at = %s WHERE id = %s",  # noqa: S608
                [conn.ops.adapt_datetimefield_value(stamp), membership_id],
            )
    return staff_user_from_row(row, start=2)


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
    table = _routing_table()
    return _team(table, table.triage_team_id)


def route_resolve(*, service_line: str, contract: Contract | None, auto_assign: bool) -> Route:
    rule = routing_rule_find(service_line=service_line, contract=contract) if service_line else None
    team = rule.first_line_team if rule is not None else triage_team()
    assignee = None
    if rule is not None and rule.fixed_assignee_id is not None:
        assignee = staff_user_by_id(user_id=rule.fixed_assignee_id)
    mode = ""
    if assignee is None and auto_assign and team is not None:
        assignee, mode = roster_pick(team=team)
    return Route(
        team=team,
        technical_team=rule.technical_team if rule is not None else None,
        assignee=assignee,
        mode=mode,
    )
