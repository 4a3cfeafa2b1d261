from __future__ import annotations

import pytest
from django.utils import timezone, translation

from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import ticket_timeline
from opsdesk.tickets.services import (
    ticket_attachment_add,
    ticket_call_record,
    ticket_customer_message_add,
    ticket_note_add,
    ticket_status_change,
    ticket_system_event_add,
    ticket_update,
)
from opsdesk.tickets.templatetags.tickets_ui import timeline_entries
from tests.factories import make_org, make_staff, make_ticket, team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dir")]

HOSTILE = "<script>alert('x')</script> & \"q\""
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;"


@pytest.fixture
def ticket() -> Ticket:
    ops = team("service-operations")
    agent = make_staff(team=ops)
    ticket = make_ticket(make_org(), actor=agent, team=ops, channel="phone", subject=HOSTILE)
    ticket_update(ticket=ticket, actor=agent, changes={"subject": "Renamed"})
    ticket_call_record(
        ticket=ticket,
        actor=agent,
        number="+821000000001",
        notes=f"line one\n{HOSTILE}",
        duration_seconds=95,
        call_id=1,
    )
    ticket_status_change(ticket=ticket, actor=agent, status="pending_customer")
    ticket_customer_message_add(
        ticket=ticket, actor_label=HOSTILE, body="thanks", data={"cc": [HOSTILE, "b@example.com"]}
    )
    ticket_system_event_add(
        ticket=ticket, actor_label="", data={"bounce": True, "bouncing": ["c@example.com"]}
    )
    note = ticket_note_add(ticket=ticket, actor=agent, body="log attached")
    ticket_attachment_add(ticket=ticket, filename="a&b.log", content=b"x" * 2048, event=note)
    return ticket


def _render(ticket: Ticket, language: str) -> str:
    events = ticket_timeline(ticket=ticket)
    with translation.override(language), timezone.override("Asia/Seoul"):
        return timeline_entries(events, ticket.reference)


def test_hostile_text_is_escaped_everywhere(ticket: Ticket):
    html = _render(ticket, "en")
    assert "<script>" not in html
    # subject before/after, call notes, customer name, cc list
    assert f'<span class="before">{ESCAPED}</span>' in html
    assert f'<div class="ev-body">line one<br>{ESCAPED}</div>' in html
    assert f'<span class="ev-actor">{ESCAPED}</span>' in html
    assert f"Cc: {ESCAPED}, b@example.com" in html
    assert '/a&amp;b.log" download>📎 a&amp;b.log</a>' in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Opened the ticket · Phone",
                '<span class="ev-kind">Phone call</span>',
                "☎ 010-0000-0001 · Duration 1:35",
                '<span class="before">New</span> → <span class="after">Waiting on customer',
                "✉ Mail bounced · Now bouncing: c@example.com",
                '<span class="ev-actor">System</span>',
            ],
        ),
        (
            "ko",
            [
                "티켓 접수 · 전화",
                '<span class="ev-kind">전화 통화</span>',
                "☎ 010-0000-0001 · 통화 시간 1:35",
                "✉ 메일 반송",
                '<span class="ev-actor">시스템</span>',
            ],
        ),
    ],
)
def test_entries_in_the_readers_language(ticket: Ticket, language: str, expected: list[str]):
    html = _render(ticket, language)
    assert html.count('<li class="ev ') == 7
    assert 'class="ev ev-note internal"' in html and "(2.0\xa0KB)" in html
    for text in expected:
        assert text in html


def test_times_are_in_the_readers_zone(ticket: Ticket):
    created = ticket_timeline(ticket=ticket)[0].created_at
    html = _render(ticket, "en")
    local = timezone.localtime(created, timezone.get_fixed_timezone(9 * 60))
    assert f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>' in html
