"""The optimised clocks (integer microseconds, cached target choice) give exactly the results
of the first, straightforward implementation (tests/sla/clocks_reference.py)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import (
    PolicySnapshot,
    TargetSnapshot,
    TicketFacts,
    compute_clocks,
    nearest_deadline,
    warning_at,
)
from tests.sla import clocks_reference
from tests.sla.calendars import BASE, CALENDARS, KR, SEOUL, at

MIN = timedelta(minutes=1)
STATUSES = ("new", "open", "pending_customer", "pending_vendor", "resolved", "closed")

targets = st.builds(
    TargetSnapshot,
    metric=st.sampled_from(("first_response", "recovery", "resolution")),
    minutes=st.sampled_from((0, 1, 60)) | st.integers(0, 6000),
    kind=st.sampled_from(("", "incident", "csr")),
    priority=st.sampled_from(("", "urgent", "normal")),
    severity=st.sampled_from(("", "complex", "simple")),
    business_time=st.booleans(),
    after_hours_minutes=st.none() | st.sampled_from((0, 15)) | st.integers(0, 600),
    pause_on_customer=st.booleans(),
    pause_on_vendor=st.booleans(),
)
# Instants in 2024-2026 with second precision and a few sub-second ones.
instants = st.integers(0, 3 * 365 * 86_400).map(lambda s: BASE + timedelta(seconds=s)) | (
    st.integers(0, 3 * 365 * 86_400 * 10**6).map(lambda us: BASE + timedelta(microseconds=us))
)
# Offsets from created_at; the edges (exactly at creation, a minute either side) often.
offsets = (st.sampled_from((0, -1, 1)) | st.integers(-600, 40_000)).map(lambda m: m * MIN)


@st.composite
def tickets(draw: st.DrawFn) -> tuple[TicketFacts, timedelta]:
    created = draw(instants)
    steps = draw(st.lists(st.tuples(offsets, st.sampled_from(STATUSES)), max_size=7))
    if draw(st.booleans()):
        steps = sorted(steps, key=lambda step: step[0])
    # Several changes in one instant happen (one request changing twice).
    if steps and draw(st.booleans()):
        steps.append((steps[-1][0], draw(st.sampled_from(STATUSES))))

    def maybe() -> object:
        return draw(st.none() | offsets.map(lambda offset: created + offset))

    facts = TicketFacts(
        kind=draw(st.sampled_from(("incident", "csr"))),
        priority=draw(st.sampled_from(("urgent", "normal", "low"))),
        severity=draw(st.sampled_from(("complex", "simple", ""))),
        created_at=created.astimezone(SEOUL) if draw(st.booleans()) else created,
        first_response_at=maybe(),  # type: ignore[arg-type]
        resolved_at=maybe(),  # type: ignore[arg-type]
        recovered_at=maybe(),  # type: ignore[arg-type]
        status_changes=tuple((created + offset, status) for offset, status in steps),
    )
    return facts, draw(offsets)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(CALENDARS),
    st.lists(targets, min_size=1, max_size=6),
    st.integers(1, 120),
    tickets(),
)
def test_fast_clocks_equal_the_reference(cal, target_list, warn, ticket):
    facts, age = ticket
    now = facts.created_at + age
    policy = PolicySnapshot(
        name="p", calendar=cal, targets=tuple(target_list), warn_at_percent=warn
    )
    expected = clocks_reference.compute_clocks(policy, facts, now)
    assert compute_clocks(policy, facts, now) == expected
    # Again from the choice cache, and per metric.
    assert compute_clocks(policy, facts, now) == expected
    for metric, clock in expected.items():
        assert compute_clocks(policy, facts, now, metrics=(metric,)) == {metric: clock}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), instants, st.integers(0, 30_000))
def test_subtracting_business_time_finds_the_earliest_instant(cal, end, minutes):
    start = bt.subtract_business_time(cal, end, minutes * MIN)
    assert bt.business_time_between(cal, start, end) == minutes * MIN
    if minutes:
        one = timedelta(microseconds=1)
        assert bt.business_time_between(cal, start - one, end) == minutes * MIN + one


def test_subtracting_business_time_edges():
    monday_0915 = at(SEOUL, 2025, 11, 3, 9, 15)
    assert bt.subtract_business_time(KR, monday_0915, 15 * MIN) == at(SEOUL, 2025, 10, 31, 18, 0)
    assert bt.subtract_business_time(KR, monday_0915, 0 * MIN) == monday_0915
    # Back over Chuseok 2024 (Mon-Wed 09-16..18 off) to the Friday before.
    assert bt.subtract_business_time(KR, at(SEOUL, 2024, 9, 19, 12, 0), 240 * MIN) == at(
        SEOUL, 2024, 9, 13, 17, 0
    )


def test_warning_instant_is_the_due_time_less_the_rest_of_the_target():
    policy = PolicySnapshot(
        name="p",
        calendar=KR,
        targets=(
            TargetSnapshot("first_response", 60),
            TargetSnapshot("resolution", 15, business_time=False),
        ),
    )
    friday_1700 = at(SEOUL, 2024, 9, 13, 17, 0)
    facts = TicketFacts(kind="csr", priority="normal", severity="", created_at=friday_1700)
    clocks = compute_clocks(policy, facts, friday_1700)
    assert warning_at(policy, clocks["first_response"]) == at(SEOUL, 2024, 9, 13, 17, 45)
    assert warning_at(policy, clocks["resolution"]) == friday_1700 + 12 * MIN  # ceil(11.25)
    assert nearest_deadline(policy, clocks) == (friday_1700 + 15 * MIN, friday_1700 + 12 * MIN)
    # The same instants later on: the warning time depends on the timeline, not on now.
    later = compute_clocks(policy, facts, friday_1700 + 7 * MIN + timedelta(seconds=31))
    assert nearest_deadline(policy, later) == (friday_1700 + 15 * MIN, friday_1700 + 12 * MIN)
    # A warning share above 100 % comes after the due time.
    late = PolicySnapshot(name="late", calendar=KR, targets=policy.targets, warn_at_percent=150)
    assert warning_at(late, clocks["first_response"]) == at(SEOUL, 2024, 9, 19, 9, 30)
