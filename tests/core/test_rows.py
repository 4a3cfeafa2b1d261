"""core.rows gives the same instances as the ORM for the hand-written hot reads."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.api.models import ApiToken
from opsdesk.api.selectors import api_token_user
from opsdesk.api.services import api_token_create
from opsdesk.core.rows import RowReader
from opsdesk.tenancy.models import StaffProfile, TeamMembership
from opsdesk.tenancy.selectors import staff_scope, staff_user_by_id
from tests.factories import make_staff, team

pytestmark = pytest.mark.django_db


def _values(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_staff_user_read_equals_the_orm_with_converted_values():
    agent = make_staff(team=team("service-operations"))
    agent.last_login = agent.date_joined
    agent.save()
    expected = User.objects.select_related("staff_profile").get(pk=agent.pk)
    with CaptureQueriesContext(connection) as captured:
        got = staff_user_by_id(user_id=agent.pk)
        profile = got.staff_profile  # attached, no second query
    assert len(captured) == 1
    assert _values(got) == _values(expected)
    assert _values(profile) == _values(expected.staff_profile)
    assert got.last_login is not None and got.last_login.tzinfo is not None
    assert got.is_active is True and profile.is_available is True
    assert staff_user_by_id(user_id=agent.pk + 1000) is None


def test_a_user_without_a_profile_reads_as_after_select_related():
    plain = User.objects.create_user(username="no-profile", password="x")
    got = staff_user_by_id(user_id=plain.pk)
    with CaptureQueriesContext(connection) as captured, pytest.raises(StaffProfile.DoesNotExist):
        got.staff_profile  # noqa: B018
    assert len(captured) == 0


def test_token_lookup_gives_the_token_owner_and_refuses_revoked_tokens():
    agent = make_staff(team=team("service-operations"))
    token, raw = api_token_create(user=agent, name="ci")
    found = api_token_user(raw=raw)
    assert found == agent and found.staff_profile.pk == agent.staff_profile.pk
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    assert api_token_user(raw=raw) is None
    assert api_token_user(raw=raw + "x") is None


def test_an_outer_join_without_a_row_is_none():
    reader = RowReader((User, "u"), (StaffProfile, "p"))
    plain = User.objects.create_user(username="lonely", password="x")
    sql = (
        f"SELECT {reader.columns()} FROM auth_user u "  # noqa: S608 - names, no input
        "LEFT JOIN tenancy_staffprofile p ON p.user_id = u.id WHERE u.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [plain.pk])
        user, profile = reader.instances(cursor.fetchone())
    assert profile is None and user is not None and user.username == "lonely"


def test_row_insert_stores_what_the_orm_would():
    from opsdesk.core.clock import now
    from opsdesk.core.rows import row_insert
    from opsdesk.tickets.models import Ticket, TimelineEvent
    from tests.factories import make_org, make_ticket

    agent = make_staff(team=team("service-operations"))
    original = make_ticket(make_org(), actor=agent, description="설명 with JSON-ish {}")
    fields = [f.attname for f in Ticket._meta.concrete_fields if not f.primary_key]
    copy = Ticket(**{name: getattr(original, name) for name in fields})
    copy.reference = original.reference + "-copy"
    row_insert(copy)
    assert copy.pk is not None and copy.pk != original.pk and not copy._state.adding
    stored = Ticket.objects.get(pk=copy.pk)
    for name in fields:
        expected = copy.reference if name == "reference" else getattr(original, name)
        assert getattr(stored, name) == expected, name
    event = TimelineEvent(
        ticket=stored,
        kind="note",
        created_at=now(),
        actor=agent,
        changes={"status": {"before": "new", "after": "open"}},
        data={"한글": [1, 2.5, None, True]},
        is_internal=True,
    )
    row_insert(event)
    again = TimelineEvent.objects.get(pk=event.pk)
    assert again.changes == event.changes and again.data == event.data
    assert again.is_internal is True and again.created_at == event.created_at


def test_active_staff_users_by_id_skip_the_inactive_and_bring_profiles():
    from opsdesk.tenancy.selectors import staff_users_active

    a = make_staff(team=team("service-operations"))
    b = make_staff(team=team("service-operations"))
    b.is_active = False
    b.save()
    with CaptureQueriesContext(connection) as captured:
        found = staff_users_active(user_ids=[a.pk, b.pk, a.pk + 1000])
        names = {pk: user.staff_profile.display_name for pk, user in found.items()}
    assert len(captured) == 1
    assert names == {a.pk: a.staff_profile.display_name}
    assert staff_users_active(user_ids=[]) == {}


def test_the_token_look_up_brings_the_team_ids_staff_scope_needs():
    ops, support = team("service-operations"), team("service-support")
    agent = make_staff(team=ops)
    TeamMembership.objects.create(team=support, user=agent, role="agent")
    loner = make_staff()
    _, raw = api_token_create(user=agent, name="ci")
    _, loner_raw = api_token_create(user=loner, name="ci")
    for secret, expected in ((raw, {ops.pk, support.pk}), (loner_raw, set())):
        with CaptureQueriesContext(connection) as captured:
            user = api_token_user(raw=secret)
            assert user is not None
            scope = staff_scope(user=user)
        assert scope.team_ids == expected
        # The look-up itself (and the last-used stamp on a first use): no team query.
        assert not any("team_id FROM" in q["sql"] for q in captured.captured_queries)
    assert staff_scope(user=User.objects.get(pk=agent.pk)).team_ids == {ops.pk, support.pk}


def _stored_events(ticket_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM tickets_timelineevent WHERE ticket_id = %s", [ticket_id]
        )
        return int(cursor.fetchone()[0])


def test_inserts_together_send_drawn_rows_as_one_statement_at_the_end():
    from opsdesk.core.clock import now
    from opsdesk.core.rows import ids_next, inserts_together, row_insert
    from opsdesk.tickets.models import TimelineEvent
    from tests.factories import make_org, make_ticket

    agent = make_staff(team=team("service-operations"))
    ticket = make_ticket(make_org(), actor=agent)
    drawn = ids_next([TimelineEvent, TimelineEvent])
    if connection.vendor != "postgresql":
        assert drawn is None  # SQLite hands out ids at INSERT: nothing is queued
        with inserts_together():
            event = TimelineEvent(ticket=ticket, kind="note", created_at=now(), body="at once")
            row_insert(event)
            assert event.pk is not None and _stored_events(ticket.pk) == 2
        return
    assert drawn is not None and drawn[1] == drawn[0] + 1
    before = _stored_events(ticket.pk)
    with CaptureQueriesContext(connection) as captured, inserts_together():
        for pk, body in zip(drawn, ("첫째", "second"), strict=True):
            row_insert(
                TimelineEvent(pk=pk, ticket=ticket, kind="note", created_at=now(), body=body)
            )
        with inserts_together():  # an inner block leaves its rows to the outer one
            row_insert(
                TimelineEvent(pk=drawn[1] + 1000, ticket=ticket, kind="note", created_at=now())
            )
        assert len(captured) == 0  # queued, not sent
    assert len(captured) == 1 and captured[0]["sql"].startswith("WITH w0 AS (INSERT")
    assert _stored_events(ticket.pk) == before + 3
    assert TimelineEvent.objects.get(pk=drawn[0]).body == "첫째"
    assert TimelineEvent.objects.get(pk=drawn[1]).body == "second"


def test_a_failure_inside_inserts_together_sends_nothing():
    from opsdesk.core.clock import now
    from opsdesk.core.rows import ids_next, inserts_together, row_insert
    from opsdesk.tickets.models import TimelineEvent
    from tests.factories import make_org, make_ticket

    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL queues (SQLite writes at once)")
    ticket = make_ticket(make_org(), actor=make_staff(team=team("service-operations")))
    before = _stored_events(ticket.pk)
    (pk,) = ids_next([TimelineEvent]) or [0]
    with pytest.raises(RuntimeError), inserts_together():
        row_insert(TimelineEvent(pk=pk, ticket=ticket, kind="note", created_at=now()))
        raise RuntimeError("refused")
    assert _stored_events(ticket.pk) == before
    # The queue is gone with its block: the next write outside one runs at once.
    late = TimelineEvent(ticket=ticket, kind="note", created_at=now())
    row_insert(late)
    assert late.pk is not None and _stored_events(ticket.pk) == before + 1


def test_a_ticket_opens_in_two_statements_on_postgresql():
    """The pick of the assignee with its stamp and the drawn reference and ids, and one
    INSERT of the ticket, its SLA timers and its first timeline entry."""
    from opsdesk.jobs.models import Timer
    from opsdesk.tickets.services import ticket_create, ticket_created_event
    from tests.factories import make_contract, make_org

    ops = team("service-operations")
    first, second = make_staff(team=ops), make_staff(team=ops)
    org = make_org()
    contract = make_contract(org, ("consulting",))
    ticket_create(actor=first, organisation=org, contract=contract, subject="warm-up")
    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_create(
            actor=first, organisation=org, contract=contract, subject="디스크 사용량 경보"
        )
    if connection.vendor == "postgresql":
        # Tests check the configuration cache's stamp on every use (tests/conftest.py), in
        # production at most once a second: that one aside.
        statements = [q["sql"] for q in captured.captured_queries][1:]
        assert len(statements) == 2, [sql[:80] for sql in statements]
        assert statements[0].startswith("WITH pick AS") and "UPDATE" in statements[0]
        assert "nextval(" in statements[0]
        assert statements[1].startswith("WITH w0 AS (INSERT INTO")
    stored = type(ticket).objects.get(pk=ticket.pk)
    assert stored.reference == ticket.reference and stored.assignee in (first, second)
    event = ticket_created_event(ticket)
    assert event is not None and event.ticket_id == ticket.pk
    assert type(event).objects.get(pk=event.pk).kind == "created"
    keys = set(Timer.objects.filter(key__endswith=f":{ticket.pk}").values_list("key", flat=True))
    assert keys == {f"sla:warning:{ticket.pk}", f"sla:breach:{ticket.pk}"}
    assert stored.due_at is not None


def test_the_one_insert_of_a_ticket_is_converted_by_psycopg_once():
    """psycopg converts placeholders again for every query of more than 50 parameters
    unless core.rows widens its cache (the ticket's one INSERT has about 60)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from psycopg import _queries

    from opsdesk.tickets.services import ticket_create
    from tests.factories import make_org

    agent = make_staff(team=team("service-operations"))
    org = make_org()
    for _ in range(2):  # every shape converted once
        ticket_create(actor=agent, organisation=org, subject="warm-up")
    before = _queries._query2pg.cache_info()
    with CaptureQueriesContext(connection) as captured:
        ticket_create(actor=agent, organisation=org, subject="again")
    after = _queries._query2pg.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits == len(captured)
    # With psycopg's own limit, the INSERT is converted again on every call.
    widened, _queries.MAX_CACHED_STATEMENT_PARAMS = _queries.MAX_CACHED_STATEMENT_PARAMS, 50
    try:
        before = _queries._query2pg.cache_info()
        ticket_create(actor=agent, organisation=org, subject="narrow")
        after = _queries._query2pg.cache_info()
    finally:
        _queries.MAX_CACHED_STATEMENT_PARAMS = widened
    assert after.hits - before.hits == len(captured) - 1


def _django_prep(instance) -> list[object]:
    return [
        f.get_db_prep_save(f.pre_save(instance, True), connection)
        for f in instance._meta.concrete_fields
    ]


def test_row_insert_hands_the_driver_what_django_would():
    """row_insert passes plain values on as they are; what it passes must still be what
    the fields' own conversion gives, including choices members, aware times,
    JSON, numbers given as text and auto_now fields."""

    from opsdesk.alerts.models import Silence
    from opsdesk.core.clock import now
    from opsdesk.core.rows import _prep_values
    from opsdesk.tickets.enums import Channel, Status, TicketKind
    from opsdesk.tickets.models import Ticket, TimelineEvent

    at = now()
    instances = [
        Ticket(
            pk=5,
            reference="INC-2026-000001",
            kind=TicketKind.INCIDENT,
            channel=Channel.MONITORING,
            status=Status.NEW,
            subject="디스크 사용률",
            organisation_id="7",  # text where an id belongs: converted, not passed on
            team_id=None,
            created_at=at,
            updated_at=at,
        ),
        TimelineEvent(pk=9, ticket_id=5, kind="created", created_at=at, changes={"a": [1]}),
        Silence(matchers={"instance": "web-1"}, starts_at=at, ends_at=at, comment="c"),
    ]
    for instance in instances:
        fields = list(instance._meta.concrete_fields)
        key = (type(instance), connection.vendor, tuple(f.attname for f in fields))
        got = _prep_values(instance, key, fields, connection)
        expected = _django_prep(instance)
        for field, mine, theirs in zip(fields, got, expected, strict=True):
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                # set anew by each pre_save, so only the kind can match
                assert isinstance(mine, type(theirs)), field.attname
                continue
            assert repr(mine) == repr(theirs), field.attname
        if instance is instances[0]:
            by_name = dict(zip([f.attname for f in fields], got, strict=True))
            assert by_name["organisation_id"] == 7
    assert instances[2].updated_at is not None  # pre_save ran for the auto_now field
