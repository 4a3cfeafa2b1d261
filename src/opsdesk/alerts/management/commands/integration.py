"""`opsdesk integration create|list`: monitoring integrations from the shell.

See docs/subsystems/alerts.md ("Quick start").
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsdesk.alerts.enums import ResolveMode, SourceKind
from opsdesk.alerts.models import Integration
from opsdesk.alerts.selectors import integration_url
from opsdesk.alerts.services import integration_create
from opsdesk.alerts.sources.presets import PRESETS
from opsdesk.core.errors import OpsDeskError
from opsdesk.tenancy.models import Organisation


class Command(BaseCommand):
    help = "Create or list monitoring integrations (webhook URLs with a secret token)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create an integration and print its URL.")
        create.add_argument("--kind", required=True, choices=SourceKind.values)
        create.add_argument("--name", required=True)
        create.add_argument("--org", default="", help="Organisation code for unmapped alerts.")
        create.add_argument(
            "--resolve-mode", default=ResolveMode.RESOLVE, choices=ResolveMode.values
        )
        create.add_argument("--group-by", default="alertname", help="Comma-separated label keys.")
        create.add_argument("--preset", default="", choices=["", *PRESETS], help="Generic only.")
        create.add_argument("--hmac-secret", default="", help="Generic senders that sign.")
        create.add_argument(
            "--no-verify-signature", action="store_true", help="CloudWatch: skip SNS checks."
        )
        sub.add_parser("list", help="List integrations with their URLs.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list()
            return
        organisation = None
        if options["org"]:
            organisation = Organisation.objects.filter(code=options["org"]).first()
            if organisation is None:
                raise CommandError(f"no organisation with code {options['org']!r}")
        try:
            integration = integration_create(
                kind=options["kind"],
                name=options["name"],
                organisation=organisation,
                resolve_mode=options["resolve_mode"],
                group_by=[k.strip() for k in options["group_by"].split(",") if k.strip()],
                field_mapping={"preset": options["preset"]} if options["preset"] else None,
                hmac_secret=options["hmac_secret"],
                verify_signature=not options["no_verify_signature"],
            )
        except OpsDeskError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(integration_url(integration=integration))

    def _list(self) -> None:
        for integration in Integration.objects.select_related("organisation").order_by("id"):
            org = integration.organisation.code if integration.organisation else "-"
            state = "active" if integration.is_active else "inactive"
            self.stdout.write(
                json.dumps(
                    {
                        "id": integration.pk,
                        "kind": integration.kind,
                        "name": integration.name,
                        "organisation": org,
                        "state": state,
                        "url": integration_url(integration=integration),
                    },
                    ensure_ascii=False,
                )
            )
