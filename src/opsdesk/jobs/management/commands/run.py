"""`opsdesk run`: migrate, then the web server and one worker in one command.

See docs/subsystems/jobs.md (embedded mode).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from opsdesk.intake.email.selectors import mailbox_list
from opsdesk.jobs.supervisor import Child, Supervisor
from opsdesk.jobs.web import bind_in_use


class Command(BaseCommand):
    help = "Apply migrations, then run the web server and a worker, restarting them if they die."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on.")
        parser.add_argument("--workers", type=int, default=2, help="Web worker processes.")
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if bind_in_use(options["bind"]):
            raise CommandError(
                f"{options['bind']} is already in use (another OpsDesk?). Stop it, or choose "
                "another address: opsdesk run --bind 127.0.0.1:8001 (make run BIND=...)."
            )
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=1)
        opsdesk = [sys.executable, "-m", "opsdesk"]
        web = [*opsdesk, "serve", "--bind", options["bind"], "--workers", str(options["workers"])]
        self.stdout.write(f"OpsDesk is starting at http://{options['bind']}/ (Ctrl-C stops it)")
        children = [
            Child(name="web server", argv=web),
            Child(name="worker", argv=[*opsdesk, "worker"]),
        ]
        # Mail intake runs when a mailbox is configured (admin → Mailboxes); a mailbox added
        # later is picked up at the next start.
        if mailbox_list().exists():
            children.append(Child(name="mail intake", argv=[*opsdesk, "mail-poll"]))
            self.stdout.write("Mail intake: polling the configured mailboxes.")
        code = Supervisor(children=children).run()
        if code:
            raise CommandError("stopped because a process kept failing", returncode=code)
