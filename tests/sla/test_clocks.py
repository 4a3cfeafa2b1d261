"""SLA clocks (opsdesk.sla.clocks) from policy snapshots and ticket facts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import (
    PolicySnapshot,
    TargetSnapshot,
    TicketFacts,
    compute_clock,
    compute_clocks,
    select_target,
)
from opsdesk.sla.models import SlaPolicy
from opsdesk.sla.selectors import policy_snapshot
from tests.sla.calendars import KR, SEOUL, at

MIN = timedelta(minutes=1)
STATUSES = ("open", "pending_customer", "pending_vendor", "resolved")


def policy(*targets: TargetSnapshot, warn: int = 75) -> PolicySnapshot:
    return PolicySnapshot(name="test", calendar=KR, targets=targets, warn_at_percent=warn)


def incident(created, *changes, severity="complex", priority="normal", **stops) -> TicketFacts:
    return TicketFacts(
        kind="incident",
        priority=priority,
        severity=severity,
        created_at=created,
        status_changes=tuple(changes),
        **stops,
    )


MONDAY_9 = at(SEOUL, 2025, 11, 3, 9, 0)
WALL_60 = TargetSnapshot(metric="resolution", minutes=60, business_time=False)


@pytest.mark.parametrize(
    ("minutes", "state", "remaining"),
    [
        (0, "running", 60),
        (44, "running", 16),
        (45, "warning", 15),
        (59, "warning", 1),
        (60, "breached", 0),
        (90, "breached", -30),
    ],
)
def test_warning_at_75_percent_then_breach(minutes, state, remaining):
    clock = compute_clock(
        policy(WALL_60), incident(MONDAY_9), "resolution", MONDAY_9 + minutes * MIN
    )
    assert (clock.state, clock.remaining_minutes) == (state, remaining)
    assert clock.due_at == MONDAY_9 + 60 * MIN


def test_configured_warning_share():
    clock = compute_clock(
        policy(WALL_60, warn=50), incident(MONDAY_9), "resolution", MONDAY_9 + 30 * MIN
    )
    assert clock.state == "warning"


@pytest.mark.parametrize(("resolved_after", "state"), [(50, "met"), (60, "met"), (61, "breached")])
def test_stopped_clocks_are_met_or_breached(resolved_after, state):
    resolved = MONDAY_9 + resolved_after * MIN
    facts = incident(MONDAY_9, (resolved, "resolved"), resolved_at=resolved)
    clock = compute_clock(policy(WALL_60), facts, "resolution", MONDAY_9 + 500 * MIN)
    assert clock.state == state
    assert clock.stopped_at == resolved
    assert clock.elapsed_minutes == resolved_after


def test_pending_on_customer_pauses_when_the_target_allows():
    target = TargetSnapshot(metric="resolution", minutes=240, pause_on_customer=True)
    changes = ((MONDAY_9 + 60 * MIN, "pending_customer"), (MONDAY_9 + 180 * MIN, "open"))
    facts = incident(MONDAY_9, *changes)
    paused = compute_clock(policy(target), facts, "resolution", MONDAY_9 + 120 * MIN)
    assert paused.state == "paused"
    assert paused.paused_minutes == 60
    assert paused.remaining_minutes == 180
    clock = compute_clock(policy(target), facts, "resolution", MONDAY_9 + 200 * MIN)
    assert clock.state == "running"
    assert clock.paused_minutes == 120
    assert clock.due_at == MONDAY_9 + 360 * MIN  # 4 h of work + 2 h waiting
    no_pause = TargetSnapshot(metric="resolution", minutes=240, pause_on_customer=False)
    assert compute_clock(policy(no_pause), facts, "resolution", MONDAY_9).due_at == at(
        SEOUL, 2025, 11, 3, 13, 0
    )


def test_pending_on_vendor_pauses_only_when_the_target_allows():
    changes = ((MONDAY_9 + 30 * MIN, "pending_vendor"), (MONDAY_9 + 90 * MIN, "open"))
    now = MONDAY_9 + 120 * MIN
    for allowed, elapsed in ((True, 60), (False, 120)):
        target = TargetSnapshot(metric="recovery", minutes=240, pause_on_vendor=allowed)
        clock = compute_clock(policy(target), incident(MONDAY_9, *changes), "recovery", now)
        assert clock.elapsed_minutes == elapsed


def test_time_while_resolved_does_not_count_after_a_reopen():
    changes = ((MONDAY_9 + 30 * MIN, "resolved"), (MONDAY_9 + 150 * MIN, "open"))
    clock = compute_clock(
        policy(WALL_60), incident(MONDAY_9, *changes), "resolution", MONDAY_9 + 160 * MIN
    )
    assert clock.elapsed_minutes == 40
    assert clock.state == "running"
    assert clock.due_at == MONDAY_9 + 180 * MIN


def test_after_hours_start_uses_the_after_hours_target_in_calendar_time():
    target = TargetSnapshot(metric="recovery", minutes=240, after_hours_minutes=120)
    saturday_night = at(SEOUL, 2025, 11, 1, 23, 0)
    clock = compute_clock(policy(target), incident(saturday_night), "recovery", saturday_night)
    assert (clock.after_hours, clock.target_minutes, clock.business_time) == (True, 120, False)
    assert clock.due_at == at(SEOUL, 2025, 11, 2, 1, 0)
    in_hours = compute_clock(policy(target), incident(MONDAY_9), "recovery", MONDAY_9)
    assert (in_hours.after_hours, in_hours.target_minutes) == (False, 240)
    assert in_hours.due_at == at(SEOUL, 2025, 11, 3, 13, 0)


def test_most_specific_target_wins_and_unmatched_metrics_have_no_clock():
    generic = TargetSnapshot(metric="recovery", minutes=480)
    complex_ = TargetSnapshot(metric="recovery", minutes=240, kind="incident", severity="complex")
    snapshot = policy(generic, complex_)
    assert select_target(snapshot, incident(MONDAY_9), "recovery") is complex_
    assert select_target(snapshot, incident(MONDAY_9, severity="simple"), "recovery") is generic
    assert set(compute_clocks(snapshot, incident(MONDAY_9), MONDAY_9)) == {"recovery"}


@pytest.mark.django_db
def test_standard_policy_complex_incident_friday_before_chuseok():
    snapshot = policy_snapshot(policy=SlaPolicy.objects.get(name="Standard"))
    created = at(SEOUL, 2025, 10, 3, 17, 0)  # 개천절, the Friday before Chuseok 2025
    facts = incident(created, first_response_at=created + 10 * MIN)
    clocks = compute_clocks(snapshot, facts, created + 20 * MIN)
    recovery = clocks["recovery"]
    assert (recovery.target_minutes, recovery.business_time) == (240, True)
    assert recovery.due_at == at(SEOUL, 2025, 10, 10, 13, 0)
    assert (recovery.state, recovery.elapsed_minutes) == ("running", 0)
    assert clocks["first_response"].state == "met"
    # Warning at 75 % of the 4 hours: 12:00 on 10-10, breach at 13:00.
    assert (
        compute_clock(snapshot, facts, "recovery", at(SEOUL, 2025, 10, 10, 11, 59)).state
        == "running"
    )
    assert (
        compute_clock(snapshot, facts, "recovery", at(SEOUL, 2025, 10, 10, 12, 0)).state
        == "warning"
    )
    assert (
        compute_clock(snapshot, facts, "recovery", at(SEOUL, 2025, 10, 10, 13, 0)).state
        == "breached"
    )
    # The 2024 variant: Friday 09-13 is a working day, Chuseok 09-16..18.
    created_2024 = at(SEOUL, 2024, 9, 13, 17, 0)
    clock = compute_clock(snapshot, incident(created_2024), "recovery", created_2024)
    assert clock.due_at == at(SEOUL, 2024, 9, 19, 12, 0)


@pytest.mark.django_db
def test_policy_without_targets_falls_back_to_its_summary_fields():
    bare = SlaPolicy.objects.create(name="Bare", first_response_minutes=30, recovery_minutes=120)
    snapshot = policy_snapshot(policy=bare)
    assert snapshot.calendar.name == "default"
    clocks = compute_clocks(snapshot, incident(MONDAY_9), MONDAY_9)
    assert clocks["first_response"].due_at == MONDAY_9 + 30 * MIN
    assert clocks["recovery"].due_at == MONDAY_9 + 120 * MIN
    assert "recovery" not in compute_clocks(
        snapshot, incident(MONDAY_9, severity="simple"), MONDAY_9
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2 * 365 * 1440).map(lambda m: MONDAY_9 - timedelta(days=300) + m * MIN),
    st.integers(1, 5000),
    st.integers(0, 20_000),
)
def test_an_uninterrupted_clock_is_due_exactly_target_business_minutes_later(created, target, age):
    snapshot = policy(TargetSnapshot(metric="resolution", minutes=target))
    clock = compute_clock(snapshot, incident(created), "resolution", created + age * MIN)
    assert clock.due_at == bt.add_business_minutes(KR, created, target)
    assert clock.elapsed_minutes == bt.business_minutes_between(KR, created, created + age * MIN)
    assert (clock.state == "breached") is (clock.elapsed_minutes >= target)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3000), st.sampled_from(STATUSES)), max_size=6))
def test_elapsed_plus_paused_is_the_whole_span(changes):
    # Ends with a reopen: a ticket whose latest status is resolved has stopped clocks.
    history = [*sorted(changes), (3500, "open")]
    facts = incident(MONDAY_9, *((MONDAY_9 + minutes * MIN, status) for minutes, status in history))
    now = MONDAY_9 + 4000 * MIN
    target = TargetSnapshot(metric="recovery", minutes=10**6, pause_on_vendor=True)
    clock = compute_clock(policy(target), facts, "recovery", now)
    total = bt.business_time_between(KR, MONDAY_9, now) // MIN
    assert clock.elapsed_minutes + clock.paused_minutes in (total - 1, total)
    if not any(
        status in ("pending_customer", "pending_vendor", "resolved") for _, status in changes
    ):
        assert clock.paused_minutes == 0
