"""The queue table's rows, written in one Python pass (tickets_ui.ticket_rows_html): every
cell escaped, labels in the reader's language, times in the staff time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from opsdesk.tenancy.models import Contact
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import tickets_attach_related
from opsdesk.tickets.templatetags.tickets_ui import ticket_rows_html
from tests.factories import make_contact, make_org, make_staff, make_ticket, team
from tests.tickets.test_timeline_ui import ESCAPED, HOSTILE

pytestmark = pytest.mark.django_db


def _rows(tickets: list[Ticket], **kwargs: bool) -> str:
    tickets_attach_related(tickets)
    return str(ticket_rows_html(tickets, **kwargs))


def test_every_cell_is_escaped_and_links_to_the_ticket_and_organisation():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    org = make_org(HOSTILE)
    contact = make_contact(org)
    Contact.objects.filter(pk=contact.pk).update(name=HOSTILE)
    ticket = make_ticket(org, actor=agent, team=ops, subject=HOSTILE, contact=contact)
    html = _rows([Ticket.objects.get(pk=ticket.pk)])
    assert "<script>" not in html
    assert html.count(ESCAPED) == 3  # subject, contact, organisation
    assert f'href="{reverse("tickets:detail", args=[ticket.reference])}"' in html
    assert f'href="{reverse("tenancy:organisation_detail", args=[org.code])}"' in html
    assert html.count("<tr>") == 1 and html.count("<td") == 9


def test_labels_follow_the_language_and_times_the_staff_zone():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    ticket = make_ticket(make_org(), actor=agent, team=ops, kind="incident", assignee=None)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=datetime(2026, 11, 28, 15, 30, tzinfo=UTC), assignee=None
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    with translation.override("en"), timezone.override("Asia/Seoul"):
        english = _rows([ticket], hide_org=True)
    with translation.override("ko"), timezone.override("UTC"):
        korean = _rows([ticket], hide_org=True)
    assert "2026-11-29 00:30" in english and "2026-11-28 15:30" in korean
    assert "Unassigned" in english and "Unassigned" not in korean
    assert english.count("<td") == 8  # no organisation column
    assert 'class="badge sv-simple"' in english


def test_an_empty_page_says_so():
    with translation.override("en"):
        assert "No tickets." in str(ticket_rows_html([]))
