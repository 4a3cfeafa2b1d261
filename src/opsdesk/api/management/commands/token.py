"""`opsdesk token create|list|revoke USERNAME`: API tokens for staff (api.services)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.api.selectors import api_token_list
from opsdesk.api.services import api_token_create, api_token_revoke
from opsdesk.core.errors import OpsDeskError
from opsdesk.tenancy.selectors import is_staff_member


class Command(BaseCommand):
    help = "Create, list or revoke a staff member's API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create: ArgumentParser = actions.add_parser(
            "create", help="Make a token and print it (it is shown only this once)."
        )
        create.add_argument("username")
        create.add_argument("--name", default="api", help="What the token is for.")
        listing: ArgumentParser = actions.add_parser("list", help="List a user's tokens.")
        listing.add_argument("username")
        revoke: ArgumentParser = actions.add_parser("revoke", help="Revoke one token by id.")
        revoke.add_argument("username")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._staff(options["username"])
        try:
            if options["action"] == "create":
                _token, raw = api_token_create(user=user, name=options["name"])
                self.stdout.write(raw)
            elif options["action"] == "list":
                self._list(user)
            else:
                token = api_token_revoke(user=user, token_id=options["token_id"])
                self.stdout.write(f"Revoked token {token.pk} ({token.name}).")
        except OpsDeskError as exc:
            raise CommandError(exc.message) from exc

    def _staff(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not is_staff_member(user=user):
            raise CommandError(f"{username!r} is not active support-centre staff.")
        return user

    def _list(self, user: User) -> None:
        for token in api_token_list(user=user):
            state = "revoked" if token.revoked_at else "active"
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.name}\t{state}\t"
                f"created {token.created_at.isoformat()}\tlast used {used}"
            )
