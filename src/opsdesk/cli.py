"""The `opsdesk` command: Django's management commands plus OpsDesk's own."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opsdesk", *(argv if argv is not None else sys.argv[1:])])
    return 0
