"""Quiet hours: non-urgent deliveries wait for the end of the person's quiet window; urgent
ones and screen notices go out at once (time-travelled through the durable timers)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from opsdesk.core.clock import frozen_at
from opsdesk.core.errors import InvalidInput
from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timers_run_due
from opsdesk.notify.channels.base import Message
from opsdesk.notify.channels.delivery import delivery_create
from opsdesk.notify.models import AgentNotice, Delivery
from opsdesk.notify.outbox import delivery_cancel, delivery_queue
from opsdesk.notify.quiet import notice_is_urgent, quiet_window_end
from opsdesk.notify.services import quiet_hours_set
from opsdesk.tickets.services import ticket_status_change
from tests.factories import make_staff, make_ticket
from tests.notify.fakes import fake_provider
from tests.notify.test_channels import _slack

SEOUL = ZoneInfo("Asia/Seoul")
MSG = Message(subject="[CSR-2026-000001] SLA due soon", body="first response", url="")


def _seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SEOUL)


# --- the window, pure -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "end"),
    [
        (_seoul(6, 23, 30), _seoul(7, 7)),  # evening part: ends tomorrow morning
        (_seoul(6, 22), _seoul(7, 7)),  # the start is inside
        (_seoul(7, 3), _seoul(7, 7)),  # morning part
        (_seoul(7, 7), None),  # the end is outside
        (_seoul(7, 12), None),
    ],
)
def test_a_window_across_midnight(at, end):
    assert quiet_window_end(at=at, starts=time(22), ends=time(7), zone="Asia/Seoul") == end


def test_a_window_within_a_day_and_other_zones():
    lunch = {"starts": time(12), "ends": time(13), "zone": "Asia/Seoul"}
    assert quiet_window_end(at=_seoul(7, 12, 30), **lunch) == _seoul(7, 13)
    assert quiet_window_end(at=_seoul(7, 13, 30), **lunch) is None
    # 23:00 in Seoul is 14:00 UTC: inside a London 13:00–15:00 window.
    london = quiet_window_end(
        at=_seoul(6, 23), starts=time(13), ends=time(15), zone="Europe/London"
    )
    assert london == datetime(2026, 12, 6, 15, tzinfo=ZoneInfo("Europe/London"))
    assert quiet_window_end(at=_seoul(6, 23), starts=time(7), ends=time(7), zone="UTC") is None


@pytest.mark.parametrize(
    ("severity", "priority", "breach", "urgent"),
    [
        ("urgent", "normal", False, True),  # everyone mobilised
        ("complex", "normal", False, True),  # a major (4-hour recovery) incident
        ("", "urgent", False, True),
        ("", "normal", True, True),  # an SLA breach
        ("simple", "high", False, False),
        ("", "normal", False, False),  # an SLA warning on an ordinary request
    ],
)
def test_what_is_urgent(severity, priority, breach, urgent):
    assert notice_is_urgent(severity=severity, priority=priority, sla_breach=breach) is urgent


# --- deliveries -------------------------------------------------------------------------


@pytest.fixture
def slack(settings):
    with fake_provider(_slack) as server:
        settings.OPSDESK_SLACK_BASE_URL = f"{server.base_url}/api"
        settings.OPSDESK_SLACK_TOKEN = "xoxb-test"
        yield server


def _person_with_quiet_nights():
    person = make_staff()
    quiet_hours_set(user=person, starts=time(22), ends=time(7), timezone="Asia/Seoul")
    return person


def _queue(person, *, urgent: bool, channel: str = "slack", ticket=None) -> Delivery:
    delivery = delivery_create(
        channel=channel,
        address="C0001" if channel == "slack" else str(person.pk),
        message=MSG,
        user=person,
        ticket=ticket,
        urgent=urgent,
        source="test:quiet",
    )
    delivery_queue(delivery=delivery)
    return delivery


def _tick(at: datetime) -> None:
    with frozen_at(at):
        timers_run_due(worker_id="w")


@pytest.mark.django_db
def test_a_non_urgent_notice_waits_for_the_end_of_quiet_hours(slack):
    person = _person_with_quiet_nights()
    with frozen_at(_seoul(6, 23)):
        delivery = _queue(person, urgent=False)
    assert delivery.not_before == _seoul(7, 7)
    _tick(_seoul(6, 23))
    _tick(_seoul(7, 6, 59))
    assert slack.requests == []
    _tick(_seoul(7, 7))
    delivery.refresh_from_db()
    assert (delivery.status, len(slack.requests)) == ("sent", 1)


@pytest.mark.django_db
def test_urgent_pages_and_screen_notices_go_through_at_once(slack):
    person = _person_with_quiet_nights()
    with frozen_at(_seoul(6, 23)):
        urgent = _queue(person, urgent=True)
        screen = _queue(person, urgent=False, channel="screen")
        timers_run_due(worker_id="w")
    urgent.refresh_from_db()
    screen.refresh_from_db()
    assert (urgent.status, urgent.not_before, len(slack.requests)) == ("sent", None, 1)
    assert (screen.status, screen.not_before) == ("sent", None)
    assert AgentNotice.objects.filter(recipient=person).count() == 1


@pytest.mark.django_db
def test_quiet_hours_set_after_queueing_still_count(slack):
    person = make_staff()
    with frozen_at(_seoul(6, 21)):
        delivery = _queue(person, urgent=False)
        quiet_hours_set(user=person, starts=time(20), ends=time(8))
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.not_before, slack.requests) == ("queued", _seoul(7, 8), [])
    _tick(_seoul(7, 8))
    delivery.refresh_from_db()
    assert delivery.status == "sent"


@pytest.mark.django_db
def test_a_deferred_notice_about_a_resolved_ticket_is_dropped(slack):
    person = _person_with_quiet_nights()
    ticket = make_ticket(subject="Disk full")
    with frozen_at(_seoul(6, 23)):
        delivery = _queue(person, urgent=False, ticket=ticket)
    ticket_status_change(ticket=ticket, actor=None, status="resolved")
    _tick(_seoul(7, 7))
    delivery.refresh_from_db()
    assert (delivery.status, slack.requests) == ("cancelled", [])


@pytest.mark.django_db
def test_queued_deliveries_of_a_source_can_be_withdrawn(slack):
    person = _person_with_quiet_nights()
    with frozen_at(_seoul(6, 23)):
        waiting = _queue(person, urgent=False)
    assert delivery_cancel(source="test:quiet") == 1
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"
    assert Timer.objects.get(key=f"delivery:{waiting.pk}").state == "cancelled"
    _tick(_seoul(7, 7))
    assert slack.requests == []


@pytest.mark.django_db
def test_quiet_hours_need_two_times_and_a_known_zone():
    person = make_staff()
    with pytest.raises(InvalidInput):
        quiet_hours_set(user=person, starts=time(7), ends=time(7))
    with pytest.raises(InvalidInput):
        quiet_hours_set(user=person, starts=time(22), ends=time(7), timezone="Mars/Olympus")
    quiet_hours_set(user=person, starts=time(22), ends=time(7))
    changed = quiet_hours_set(user=person, starts=time(23), ends=time(6), timezone="UTC")
    assert (changed.starts, changed.ends, changed.timezone) == (time(23), time(6), "UTC")
