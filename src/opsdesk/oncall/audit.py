"""`oncall audit`: gaps in on-call coverage ahead → notices to team leads, and escalations whose
step timer went missing → rescheduled. Runs daily at 09:00 Seoul as the periodic job
``oncall-audit`` and on demand with `opsdesk oncall audit` (docs/subsystems/oncall.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.notify.models import AgentNotice
from opsdesk.notify.services import notice_broadcast
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.selectors import coverage_gaps
from opsdesk.oncall.services import escalation_audit
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.models import Team

AUDIT_DAYS = 7
GAP_NOTICE = "oncall_gap"
LOCAL_ZONE = ZoneInfo("Asia/Seoul")
# A second run on the same day (a manual `oncall audit`, a recovered timer) does not repeat a
# notice whose gaps have not changed.
NOTICE_QUIET = timedelta(hours=20)


@dataclass(frozen=True)
class TeamGaps:
    team: Team
    gaps: list[tuple[datetime, datetime]]
    notified: list[User]


@dataclass(frozen=True)
class AuditReport:
    teams: list[TeamGaps]
    rescheduled: int


def _span_text(begins: datetime, ends: datetime) -> str:
    a, b = begins.astimezone(LOCAL_ZONE), ends.astimezone(LOCAL_ZONE)
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"


def _leads(team: Team) -> list[User]:
    """The team's leads; the centre heads when it has none, so a gap always reaches someone."""
    leads = User.objects.filter(
        memberships__team=team, memberships__role=MemberRole.TEAM_LEAD, is_active=True
    )
    people = list(leads.distinct().order_by("id"))
    if not people:
        people = list(
            User.objects.filter(staff_profile__role=StaffRole.CENTRE_HEAD, is_active=True)
        )
    return people


def _notify_gaps(
    team: Team, gaps: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[User]:
    lines = [_span_text(b, e) for b, e in gaps]
    # The same gaps seen an hour later start at a later "now": the digest says "now" and "end"
    # for the window's edges, so only a real change (a gap filled, a new one) notifies again.
    edges = [
        ("now" if b == start else b.isoformat(), "end" if e == end else e.isoformat())
        for b, e in gaps
    ]
    digest = hashlib.sha256(f"{team.pk}|{edges}".encode()).hexdigest()[:16]
    since = now() - NOTICE_QUIET
    notified = []
    for lead in _leads(team):
        if AgentNotice.objects.filter(
            recipient=lead, kind=GAP_NOTICE, data__digest=digest, created_at__gte=since
        ).exists():
            continue
        notice_broadcast(
            kind=GAP_NOTICE,
            title=_("Nobody on call for %(team)s in the next %(days)d days: %(count)d gap(s)")
            % {"team": team.name, "days": AUDIT_DAYS, "count": len(gaps)},
            body="\n".join(lines),
            url=reverse("oncall:who"),
            data={"team": team.slug, "digest": digest},
            recipient=lead,
        )
        notified.append(lead)
    return notified


def oncall_coverage_audit(*, days: int = AUDIT_DAYS) -> list[TeamGaps]:
    """For each team with a schedule: the gaps in the next ``days``; its leads get a notice."""
    start = now()
    end = start + timedelta(days=days)
    report = []
    teams = Team.objects.filter(Exists(Schedule.objects.filter(team=OuterRef("pk"))))
    for team in teams.order_by("slug"):
        gaps = coverage_gaps(team=team, start=start, end=end)
        if gaps:
            notified = _notify_gaps(team, gaps, start, end)
            report.append(TeamGaps(team=team, gaps=gaps, notified=notified))
    return report


def oncall_audit() -> AuditReport:
    """Both checks; the periodic job ``oncall-audit`` and `opsdesk oncall audit`."""
    rescheduled = escalation_audit()
    return AuditReport(teams=oncall_coverage_audit(), rescheduled=rescheduled)
