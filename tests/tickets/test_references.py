"""Public references: unique and increasing per prefix and local year. On PostgreSQL they
come from a sequence per prefix and year that starts above the counter row (upgrades, bulk
loads) and holds no lock, so simultaneous openings do not wait for each other."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from opsdesk.tickets.models import ReferenceSequence, Ticket
from opsdesk.tickets.services import reference_counters_sync, reference_next
from opsdesk.tickets.services.references import _ready, sequence_name
from tests.factories import make_org, make_ticket

SEOUL = ZoneInfo("Asia/Seoul")


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


@pytest.mark.django_db
def test_the_year_is_the_local_one_and_each_kind_counts_on_its_own():
    # 2030-12-31 16:00 UTC is already 2031 in Seoul.
    at = datetime(2030, 12, 31, 16, 0, tzinfo=ZoneInfo("UTC"))
    first = reference_next(kind="csr", at=at)
    assert first.startswith("CSR-2031-")
    assert _number(reference_next(kind="csr", at=at)) == _number(first) + 1
    assert reference_next(kind="incident", at=at).startswith("INC-2031-")


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite counts on the row (one writer at a time)")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_years_sequence_starts_above_the_counter_row():
    _postgres_only()
    # An installation upgraded mid-year, or a bulk load: the row holds the last number.
    ReferenceSequence.objects.update_or_create(
        prefix="CSR", year=2041, defaults={"last_value": 4242}
    )
    at = datetime(2041, 6, 1, 9, 0, tzinfo=SEOUL)
    assert reference_next(kind="csr", at=at) == "CSR-2041-004243"
    # A later bulk load moves the row on; the sync moves the sequence past it, never back.
    ReferenceSequence.objects.filter(prefix="CSR", year=2041).update(last_value=5000)
    reference_counters_sync()
    assert reference_next(kind="csr", at=at) == "CSR-2041-005001"
    ReferenceSequence.objects.filter(prefix="CSR", year=2041).update(last_value=10)
    reference_counters_sync()
    assert reference_next(kind="csr", at=at) == "CSR-2041-005002"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_opening_leaves_a_gap_and_nothing_repeats():
    _postgres_only()
    org = make_org()
    before = make_ticket(org)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket(org)
        raise RuntimeError("the caller's transaction fails after the ticket")
    after = make_ticket(org)
    assert _number(after.reference) == _number(before.reference) + 2
    assert not Ticket.objects.filter(reference__gt=before.reference).exclude(pk=after.pk)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_processes_that_meet_the_year_at_once_share_one_sequence():
    """Several connections making sure of the same new sequence at the same moment: one
    creates it, none fails, and the numbers they draw are distinct."""
    _postgres_only()
    year = 2043
    name = sequence_name("INC", year)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SEQUENCE IF EXISTS {name}")
    _ready.clear()
    at = datetime(year, 3, 1, 9, 0, tzinfo=SEOUL)
    start = threading.Barrier(4)
    drawn: list[str] = []
    errors: list[BaseException] = []

    def draw() -> None:
        try:
            start.wait()
            for _ in range(5):
                drawn.append(reference_next(kind="incident", at=at))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(drawn)) == 20
    assert sorted(_number(r) for r in drawn) == list(range(1, 21))
