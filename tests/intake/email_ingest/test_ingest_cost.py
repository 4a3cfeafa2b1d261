"""What one ingested mail costs the database, and the cheaper paths keeping their behaviour:
threading over long References chains, the written-out sender lookup giving the ORM's
answer, our own addresses from the configuration cache, the delivery task committed with the
mail, raw files that are never half-written (docs/subsystems/email.md, "Speed")."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from opsdesk.core.clock import now
from opsdesk.intake.email import selectors, senders
from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.email.services import outbound_queue
from opsdesk.intake.email.storage import raw_mail_name, raw_mail_store
from opsdesk.intake.models import InboundMessage, Mailbox, OutboundKind, OutboundMessage
from opsdesk.tenancy.models import ContactEmail
from opsdesk.tickets.models import Ticket
from tests.factories import make_contact, make_org

pytestmark = pytest.mark.django_db

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")  # SQLite shows these, PostgreSQL not


def ingest(raw: bytes):
    return email_ingest(raw=raw, received_via="file")


def _under_ticket_services() -> bool:
    """True when a ticket service (tickets/services/*, and all it calls: routing, SLA,
    timers) is on the stack, or its @transaction.atomic is opening or closing its savepoint:
    those statements are the tickets app's to count, not the email path's, so this test
    holds whatever that app does."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("opsdesk.tickets.services"):
            return True
        decorated = frame.f_locals.get("func") if frame.f_code.co_name == "inner" else None
        if getattr(decorated, "__module__", "").startswith("opsdesk.tickets.services"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@contextmanager
def email_path_queries() -> Iterator[list[str]]:
    """The statements the email path itself sends (transaction control left out)."""
    statements: list[str] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        control = sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)
        if not control and not _under_ticket_services():
            statements.append(sql)
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(record):
        yield statements


@pytest.fixture
def database_tasks(settings) -> None:
    """The production task backend: the task queue is a table of this database."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# transaction=True: email_ingest's transaction is the outermost one, as in production.
# serialized_rollback, like every transactional test here: the flush after a test without it
# re-creates content types (new ids), which the next serialized test's restore collides with.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_plain_mail_from_a_known_contact_costs_seven_statements(make_mail, database_tasks):
    """Insert the inbound row (the de-duplication claim), the configuration stamp (our own
    addresses; ticket_create then shares it), the rate limit's count, the sender's contact
    with organisation and bouncing flag, the acknowledgment, its delivery task, the outcome.
    No "created" event read back (no attachments), no savepoint around the acknowledgment.
    It was ten (the task in a transaction of its own). In production the stamp is read at
    most once a second (the tests read it every time), so usually six."""
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    ingest(make_mail(subject="warm-up"))  # first-use rows (reference counter, …)
    with email_path_queries() as statements:
        result = ingest(make_mail(subject="Disk alarm on db-02"))
    assert result.action == "created"
    assert len(statements) == 7, "\n".join(statements)
    row = InboundMessage.objects.get(ticket__reference=result.ticket_ref)
    ticket = Ticket.objects.get(reference=result.ticket_ref)
    assert row.event == ticket.events.order_by("id").first()  # found by the UPDATE's subquery
    assert row.event is not None and row.event.kind == "created"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reply_by_in_reply_to_costs_four_statements(make_mail, database_tasks):
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    first = ingest(make_mail(message_id="<first@customer.test>"))
    with email_path_queries() as statements:
        reply = ingest(make_mail(subject="Re: more", in_reply_to="<first@customer.test>"))
    assert (reply.action, reply.ticket_ref) == ("threaded", first.ticket_ref)
    # insert, configuration stamp (own addresses), the ticket by Message-ID (our mail and
    # theirs in one statement; it was two), the outcome
    assert len(statements) == 4, "\n".join(statements)


def test_long_references_chain_of_strangers_costs_one_lookup(make_mail, database_tasks):
    """A new mail whose References name 31 ids we never saw: one query, not sixty-two."""
    make_org(domains=("customer.test",))
    chain = " ".join(f"<elsewhere-{n}@other.test>" for n in range(30))
    with email_path_queries() as statements:
        result = ingest(make_mail(references=chain, in_reply_to="<elsewhere-30@other.test>"))
    assert result.action == "created"
    lookups = [s for s in statements if "message_id" in s and s.lstrip().startswith("SELECT")]
    assert len(lookups) == 1, "\n".join(lookups)


def test_references_beyond_one_statement_are_read_in_order(make_mail, monkeypatch):
    """More ids than one statement binds: slices in order, the earliest match still wins,
    and thousands of ids (hostile input) are no error."""
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    older = ingest(make_mail(subject="older", message_id="<older@customer.test>"))
    newer = ingest(make_mail(subject="newer", message_id="<newer@customer.test>"))
    monkeypatch.setattr(selectors, "MESSAGE_IDS_PER_QUERY", 3)
    found = selectors.ticket_by_message_ids(
        message_ids=["a@x", "b@x", "c@x", "d@x", "newer@customer.test", "older@customer.test"]
    )
    assert found is not None and found.reference == newer.ticket_ref
    monkeypatch.setattr(selectors, "MESSAGE_IDS_PER_QUERY", 200)
    hostile = [f"junk-{n}@x" for n in range(5000)] + ["older@customer.test"]
    found = selectors.ticket_by_message_ids(message_ids=hostile)
    assert found is not None and found.reference == older.ticket_ref


def test_newest_reference_wins_and_our_mail_before_an_inbound_one(make_mail):
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    older = ingest(make_mail(subject="older", message_id="<older@customer.test>"))
    newer = ingest(make_mail(subject="newer", message_id="<newer@customer.test>"))
    older_ack = OutboundMessage.objects.get(ticket__reference=older.ticket_ref)
    # References oldest first: the last one (newer's id) is the newest and decides.
    answer = ingest(
        make_mail(
            subject="Re: both",
            references=f"<older@customer.test> <{older_ack.message_id}> <newer@customer.test>",
        )
    )
    assert (answer.action, answer.ticket_ref) == ("threaded", newer.ticket_ref)
    # The same id as our own mail and as an inbound row of another ticket: ours first.
    other = ingest(make_mail(subject="other", message_id="<other@customer.test>"))
    InboundMessage.objects.filter(ticket__reference=other.ticket_ref).update(
        message_id=older_ack.message_id
    )
    mixed = ingest(
        make_mail(
            subject="Re: ack",
            in_reply_to=f"<{older_ack.message_id}>",
            references="<newer@customer.test>",
        )
    )
    assert (mixed.action, mixed.ticket_ref) == ("threaded", older.ticket_ref)
    # An unknown In-Reply-To falls back to the newest known reference.
    fallback = ingest(
        make_mail(
            subject="Re: fallback",
            in_reply_to="<unknown@customer.test>",
            references="<newer@customer.test> <older@customer.test>",
        )
    )
    assert (fallback.action, fallback.ticket_ref) == ("threaded", older.ticket_ref)


def test_delivery_task_commits_with_the_mail_and_rolls_back_with_it(make_mail, database_tasks):
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    result = ingest(make_mail())
    ack = OutboundMessage.objects.get(ticket__reference=result.ticket_ref)
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("outbound_send_task")
    assert task.args_kwargs["kwargs"] == {"outbound_id": ack.pk}

    ticket = Ticket.objects.get(reference=result.ticket_ref)
    with pytest.raises(RuntimeError), transaction.atomic():
        outbound_queue(
            ticket=ticket,
            kind=OutboundKind.NOTICE,
            to=["minsu@customer.test"],
            subject="s",
            body="b",
        )
        raise RuntimeError("the caller's transaction fails")
    assert OutboundMessage.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_raw_file_is_written_whole_and_a_truncated_one_is_replaced():
    raw = b"From: a@customer.test\r\nSubject: x\r\n\r\n" + b"line\r\n" * 2000
    name, digest = raw_mail_store(raw=raw)
    assert name == raw_mail_name(digest)
    path = default_storage.path(name)
    with open(path, "rb") as handle:
        assert handle.read() == raw
    before = os.stat(path).st_mtime_ns
    assert raw_mail_store(raw=raw) == (name, digest)  # already there: not written again
    assert os.stat(path).st_mtime_ns == before
    with open(path, "wb") as handle:  # what a crash in the middle of an older write left
        handle.write(raw[:100])
    raw_mail_store(raw=raw)
    with open(path, "rb") as handle:
        assert handle.read() == raw
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)]  # no temps


def test_own_addresses_follow_mailbox_edits_at_once(make_mail):
    """Mailbox addresses come from the process cache; saving a mailbox refreshes it."""
    make_org(domains=("customer.test",))
    assert ingest(make_mail(subject="fills the cache")).action == "created"
    box = Mailbox.objects.create(
        name="second",
        address="help@customer.test",
        host="imap.test",
        username="u",
        password_env="X",
    )
    mine = ingest(make_mail(sender="help@customer.test", subject="from our own mailbox"))
    assert (mine.action, mine.reason) == ("ignored", "sent from one of our own addresses")
    box.address = "desk@customer.test"
    box.save()
    theirs = ingest(make_mail(sender="help@customer.test", subject="a customer again"))
    assert theirs.action == "created"


def test_written_out_sender_lookup_gives_what_the_orm_gives():
    """senders._contact_email reads with written-out SQL (core.rows): same instances, same
    related objects, as the select_related query it replaced."""
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    loner = make_contact(None, emails=("solo@elsewhere.test",))
    ContactEmail.objects.filter(address="solo@elsewhere.test").update(bouncing_since=now())
    orm = ContactEmail.objects.select_related("contact__organisation")
    for address in ("minsu@customer.test", "MinSu@Customer.TEST", "solo@elsewhere.test"):
        ours = senders._contact_email(address)
        theirs = orm.get(address=address.lower())
        assert ours is not None
        for name in ("pk", "contact_id", "address", "is_primary", "bouncing_since"):
            assert getattr(ours, name) == getattr(theirs, name), name
        with CaptureQueriesContext(connection) as queries:  # related objects come attached
            contact, organisation = ours.contact, ours.contact.organisation
        assert len(queries) == 0
        assert contact.__dict__.keys() >= {"name", "language", "organisation_id"}
        assert (contact.pk, contact.name, contact.language) == (
            theirs.contact.pk,
            theirs.contact.name,
            theirs.contact.language,
        )
        assert organisation == theirs.contact.organisation
        if organisation is not None:
            assert (organisation.name, organisation.language, organisation.is_active) == (
                theirs.contact.organisation.name,
                theirs.contact.organisation.language,
                theirs.contact.organisation.is_active,
            )
    assert senders._contact_email("solo@elsewhere.test").contact == loner
    assert senders._contact_email("nobody@customer.test") is None
