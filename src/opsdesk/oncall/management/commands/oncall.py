"""`opsdesk oncall who --team SLUG [--at INSTANT]`: who is on call (docs/subsystems/oncall.md).
`opsdesk oncall audit`: gaps in coverage in the next 7 days (team leads get a notice), and
active escalations whose step timer is gone (rescheduled).
`opsdesk oncall import-ical --schedule ID|NAME FILE|URL [--dry-run]`: a rotation from iCal
as overrides; all or nothing.

`who` prints one line per person: username, display name. An instant without an offset is read
as Asia/Seoul time.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.core.people import display_name
from opsdesk.oncall.audit import oncall_audit
from opsdesk.oncall.ical_import import IcalImportError, ical_fetch, schedule_ical_import
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.selectors import oncall_mode, oncall_who
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


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(LOCAL_ZONE):%Y-%m-%d %H:%M}"


def _schedule(text: str | None) -> Schedule:
    if not text:
        raise CommandError("import-ical needs --schedule ID or NAME")
    found = list(
        Schedule.objects.filter(pk=int(text))
        if text.isdigit()
        else Schedule.objects.filter(name=text)
    )
    if len(found) != 1:
        raise CommandError(f"{'no' if not found else 'more than one'} schedule {text!r}")
    return found[0]


class Command(BaseCommand):
    help = (
        "On call: `who --team SLUG [--at INSTANT]`, `audit`, "
        "`import-ical --schedule ID|NAME FILE|URL [--dry-run]`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["who", "audit", "import-ical"])
        parser.add_argument("source", nargs="?", default=None, help="import-ical: file or URL")
        parser.add_argument("--team", default=None)
        parser.add_argument("--at", default=None)
        parser.add_argument("--schedule", default=None)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "audit":
            self._audit()
        elif action == "import-ical":
            self._import(options)
        else:
            self._who(options)

    def _who(self, options: dict[str, Any]) -> None:
        if not options["team"]:
            raise CommandError("who needs --team SLUG")
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team {options['team']!r}")
        at = _instant(options["at"])
        people = oncall_who(team=team, at=at)
        self.stderr.write(f"{team.slug} at {at.isoformat()} ({oncall_mode(at=at)})")
        for person in people:
            self.stdout.write(f"{person.get_username()}\t{display_name(person)}")

    def _audit(self) -> None:
        report = oncall_audit()
        self.stdout.write(f"rescheduled {report.rescheduled}")
        for row in report.teams:
            leads = ", ".join(p.get_username() for p in row.notified) or "-"
            self.stdout.write(f"{row.team.slug}: {len(row.gaps)} gap(s), notified {leads}")
            for begins, ends in row.gaps:
                self.stdout.write(f"  {_local(begins)} - {_local(ends)}")

    def _import(self, options: dict[str, Any]) -> None:
        schedule = _schedule(options["schedule"])
        source = options["source"]
        if not source:
            raise CommandError("import-ical needs a FILE or URL")
        try:
            data = ical_fetch(source) if "://" in source else Path(source).read_bytes()
            report = schedule_ical_import(schedule=schedule, data=data, dry_run=options["dry_run"])
        except IcalImportError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"nothing imported: {len(exc.problems)} problem(s)") from None
        except (InvalidInput, OSError) as exc:
            raise CommandError(str(exc)) from None
        verb = "would create" if options["dry_run"] else "created"
        for cover in report.created:
            self.stdout.write(
                f"{cover.user.get_username()}\t{_local(cover.starts_at)}\t{_local(cover.ends_at)}"
            )
        self.stderr.write(
            f"{verb} {len(report.created)} override(s); {report.existing} already there, "
            f"{report.past} in the past, {report.cancelled} cancelled"
        )
