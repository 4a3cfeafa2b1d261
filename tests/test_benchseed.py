from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.factories import make_org, make_ticket

pytestmark = pytest.mark.django_db


def test_seed_writes_realistic_rows_and_normal_use_continues():
    out = StringIO()
    call_command("bench", "seed", "--tickets", "120", stdout=out)
    assert "seeded 120 tickets" in out.getvalue()
    assert Ticket.objects.count() == 120
    per_ticket = TimelineEvent.objects.values("ticket").annotate(n=Count("id"))
    assert {row["n"] for row in per_ticket} <= set(range(5, 31))
    assert Ticket.objects.filter(team__isnull=False).count() == 120
    # A second seed and a ticket made by the services continue ids and references.
    call_command("bench", "seed", "--tickets", "30", stdout=StringIO())
    fresh = make_ticket(make_org())
    assert Ticket.objects.count() == 151
    assert Ticket.objects.filter(reference=fresh.reference).count() == 1
    assert TimelineEvent.objects.filter(ticket=fresh).count() == 1
