"""One place to ask for the time, so time-travel tests and timers agree on 'now'."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
