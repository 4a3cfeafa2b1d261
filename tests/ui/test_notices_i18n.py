from __future__ import annotations

import re

import pytest
from django.test import Client

from opsdesk.intake.services import call_incoming
from opsdesk.notify.services import notice_broadcast
from tests.factories import make_staff, make_ticket
from tests.ui.conftest import Desk

pytestmark = pytest.mark.django_db


def _after(body: str) -> int:
    return int(re.search(r"poll\?after=(\d+)", body).group(1))


def test_poll_shows_a_new_incoming_call_once(desk: Desk, agent_client: Client):
    page = agent_client.get("/").content.decode()
    start = _after(page)
    empty = agent_client.get(f"/notices/poll?after={start}").content.decode()
    assert "notice-incoming_call" not in empty and _after(empty) == start

    call, _match = call_incoming(number="010-0000-0001")
    first = agent_client.get(
        f"/notices/poll?after={start}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "notice-incoming_call" in first
    assert desk.contact.name in first and "open call screen" in first
    assert f"/calls/new/?number=+821000000001&amp;call={call.pk}" in first
    next_after = _after(first)
    assert next_after > start
    again = agent_client.get(f"/notices/poll?after={next_after}").content.decode()
    assert "notice-incoming_call" not in again and _after(again) == next_after


def test_notices_for_someone_else_are_not_shown(desk: Desk, agent_client: Client):
    start = _after(agent_client.get("/").content.decode())
    notice_broadcast(kind="direct", title="For the colleague", recipient=desk.colleague)
    body = agent_client.get(f"/notices/poll?after={start}").content.decode()
    assert "For the colleague" not in body


def test_poll_is_one_query_after_the_access_check(
    desk: Desk, agent_client: Client, django_assert_max_num_queries
):
    agent_client.get("/")
    for _ in range(3):
        notice_broadcast(kind="incoming_call", title="Call")
    # session, user, staff profile, team memberships, then the notices.
    with django_assert_max_num_queries(5):
        agent_client.get("/notices/poll?after=0")


def test_language_switch_to_english_and_korean(desk: Desk):
    client = Client()
    client.force_login(desk.agent)
    ticket = make_ticket(desk.org, contract=desk.contract)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Internal note" in english and "Log a call" in english and 'lang="en"' in english
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    korean = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "내부 메모" in korean and "전화 접수" in korean and "접수" in korean
    assert "Log a call" not in korean


def test_times_are_shown_in_seoul_time(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract)
    ticket.created_at = ticket.created_at.replace(hour=23, minute=30)  # 23:30 UTC
    ticket.save(update_fields=["created_at"])
    body = agent_client.get("/tickets/?queue=all").content.decode()
    assert "08:30" in body  # 08:30 the next day in Asia/Seoul


def test_other_staff_see_their_own_name(desk: Desk):
    someone = make_staff()
    client = Client()
    client.force_login(someone)
    assert someone.staff_profile.display_name in client.get("/").content.decode()
