"""`opsdesk oncall who --team SLUG [--at INSTANT]`: who is on call (docs/subsystems/oncall.md).
`opsdesk oncall audit`: reschedule active escalations whose step timer is gone.

Prints one line per person: username, display name. An instant without an offset is read as
Asia/Seoul time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.core.clock import now
from opsdesk.oncall.selectors import oncall_mode, oncall_who, person_label
from opsdesk.oncall.services import escalation_audit
from opsdesk.tenancy.models import Team

LOCAL_ZONE = ZoneInfo("Asia/Seoul")


def _instant(text: str | None) -> datetime:
    if not text:
        return now()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"not an ISO 8601 instant: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_ZONE)


class Command(BaseCommand):
    help = "On call: `who --team SLUG [--at INSTANT]`, `audit`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["who", "audit"])
        parser.add_argument("--team", default=None)
        parser.add_argument("--at", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "audit":
            self.stdout.write(f"rescheduled {escalation_audit()}")
            return
        if not options["team"]:
            raise CommandError("who needs --team SLUG")
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team {options['team']!r}")
        at = _instant(options["at"])
        people = oncall_who(team=team, at=at)
        self.stderr.write(f"{team.slug} at {at.isoformat()} ({oncall_mode(at=at)})")
        for person in people:
            self.stdout.write(f"{person.get_username()}\t{person_label(person)}")
