"""Delivery records: retries on provider errors, final failure on the ticket timeline, masked
logs; through the notify outbox, and through the on-call delivery timer rows queued before
escalations moved to the outbox."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timer_schedule, timers_run_due
from opsdesk.notify.channels.base import Message
from opsdesk.notify.channels.delivery import delivery_create
from opsdesk.notify.models import Delivery
from opsdesk.notify.outbox import DELIVERY_TIMER, delivery_queue
from opsdesk.oncall.timers import LEGACY_DELIVERY_TIMER
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
    """A delivery as an older version queued it: a timer of on-call's former kind."""
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
        kind=LEGACY_DELIVERY_TIMER,
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
        # The outbox ran the old row and owns the retry: same key, its own kind.
        retry = Timer.objects.get(key=f"delivery:{delivery.pk}")
        assert (retry.kind, retry.state) == (DELIVERY_TIMER, "pending")
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


# --- the notify outbox (notify.delivery timers) ------------------------------------------


def _outbox(channel: str, address: str, ticket=None) -> Delivery:
    delivery = delivery_create(
        channel=channel,
        address=address,
        user=make_staff(),
        ticket=ticket,
        message=Message(subject="[CSR-2026-000001] Escalation", body="b", url="https://x/a/1/"),
        source="test:outbox",
    )
    delivery_queue(delivery=delivery)
    return delivery


def _throttled_once(request: Seen) -> tuple[int, dict, dict]:
    STATE["calls"] += 1
    if STATE["calls"] == 1:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "120"}
    return 200, {"ok": True, "ts": "9.9"}, {}


def test_a_retry_waits_as_long_as_the_provider_asks(settings):
    STATE["calls"] = 0
    with fake_provider(_throttled_once) as server:
        settings.OPSDESK_SLACK_BASE_URL = server.base_url
        start = now()
        with frozen_at(start):
            delivery = _outbox("slack", "C0001")
            timers_run_due(worker_id="w")
        timer = Timer.objects.get(key=f"delivery:{delivery.pk}")
        assert (timer.kind, timer.due_at) == (DELIVERY_TIMER, start + timedelta(seconds=120))
        with frozen_at(start + timedelta(seconds=60)):  # the 30 s backoff alone would send now
            timers_run_due(worker_id="w")
        assert STATE["calls"] == 1
        with frozen_at(start + timedelta(seconds=120)):
            timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 2, "9.9")


def test_the_outbox_writes_a_final_failure_on_the_ticket(settings):
    STATE["calls"] = 1
    with fake_provider(_flaky) as server:
        settings.OPSDESK_SLACK_BASE_URL = server.base_url
        ticket = make_ticket(subject="Disk full")
        delivery = _outbox("slack", "C404", ticket=ticket)
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == ("failed", "channel_not_found")
    assert TimelineEvent.objects.filter(ticket=ticket, data__delivery=delivery.pk).exists()


def _nhn_echoing_the_number(request: Seen) -> tuple[int, dict]:
    number = json.loads(request.body)["recipientList"][0]["recipientNo"]
    message = f"Invalid recipientNo {number}"
    return 200, {"header": {"isSuccessful": False, "resultCode": -2, "resultMessage": message}}


def test_phone_numbers_are_masked_in_logs_and_errors(settings, caplog):
    with fake_provider(_nhn_echoing_the_number) as server:
        settings.OPSDESK_NHN_SMS_BASE_URL = server.base_url
        delivery = _outbox("nhn_sms", "010-0000-0001")
        with caplog.at_level(logging.INFO, logger="opsdesk.notify"):
            timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert delivery.error == "-2: Invalid recipientNo *********01"
    record = next(r for r in caplog.records if r.getMessage() == "delivery failed")
    assert (record.to, record.channel) == ("*********01", "nhn_sms")
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "0000-0001" not in logged and "01000000001" not in logged


def test_a_teams_webhook_is_logged_by_host_only(caplog):
    delivery = _outbox("teams", "https://example.invalid/workflows/1?sig=SECRET")
    with caplog.at_level(logging.INFO, logger="opsdesk.notify"):
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert delivery.status == "failed"  # not an allowed host
    assert "SECRET" not in " ".join(str(vars(r)) for r in caplog.records)
