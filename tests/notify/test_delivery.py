"""Delivery records: retries on provider errors, final failure on the ticket timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.timers import timer_schedule, timers_run_due
from opsdesk.notify.channels.base import Message
from opsdesk.notify.channels.delivery import delivery_create
from opsdesk.notify.models import Delivery
from opsdesk.oncall.services import DELIVERY_TIMER
from opsdesk.tickets.models import TimelineEvent
from tests.factories import make_staff, make_ticket
from tests.notify.fakes import Seen, fake_provider

pytestmark = pytest.mark.django_db

STATE = {"calls": 0}


def _flaky(request: Seen) -> tuple[int, dict]:
    STATE["calls"] += 1
    if STATE["calls"] == 1:
        return 503, {"ok": False, "error": "service_unavailable"}
    if "C404" in request.body.decode():
        return 200, {"ok": False, "error": "channel_not_found"}
    return 200, {"ok": True, "ts": "1.2"}


def _queue(channel_address: str):
    ticket = make_ticket(subject="Disk full")
    delivery = delivery_create(
        channel="slack",
        address=channel_address,
        user=make_staff(),
        ticket=ticket,
        message=Message(subject="s", body="b"),
        source="test",
    )
    timer_schedule(
        key=f"delivery:{delivery.pk}",
        kind=DELIVERY_TIMER,
        due_at=now(),
        payload={"delivery": delivery.pk},
    )
    return delivery, ticket


def test_a_503_is_retried_and_then_sent(settings):
    STATE["calls"] = 0
    with fake_provider(_flaky) as server:
        settings.OPSDESK_SLACK_BASE_URL = server.base_url
        delivery, _ticket = _queue("C0001")
        start = now()
        with frozen_at(start):
            timers_run_due(worker_id="w")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("queued", 1)
        with frozen_at(start + timedelta(minutes=5)):
            timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 2, "1.2")


def test_a_final_failure_is_shown_on_the_ticket(settings):
    STATE["calls"] = 1
    with fake_provider(_flaky) as server:
        settings.OPSDESK_SLACK_BASE_URL = server.base_url
        delivery, ticket = _queue("C404")
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == ("failed", "channel_not_found")
    event = TimelineEvent.objects.filter(ticket=ticket, data__status="failed").get()
    assert event.data["delivery"] == delivery.pk
    assert Delivery.objects.count() == 1
