"""Bulk data for benchmarks: `opsdesk bench seed --tickets N`.

Rows are written straight to the tables in large batches (PostgreSQL COPY, SQLite
executemany) with explicit ids, bypassing the services on purpose: a million tickets
through the ORM would take hours. The shape follows the services' output (references,
routing to the seeded teams, timelines of 5-30 events with before/after changes), and the
reference counters and id sequences are moved past the inserted rows so that normal use
continues cleanly afterwards. See bench/README.md.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max, Model

from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Contract,
    Organisation,
    RoutingRule,
    StaffProfile,
    Team,
    TeamMembership,
)
from opsdesk.tickets.enums import OPEN_STATUSES, Channel, EventKind, Priority, Severity, Status
from opsdesk.tickets.models import ReferenceSequence, Ticket, TimelineEvent
from opsdesk.tickets.services import reference_counters_sync

SEOUL = ZoneInfo("Asia/Seoul")
BATCH = 5_000
BENCH_PASSWORD = "opsdesk-bench"  # noqa: S105 - fictional bench accounts
LINES = ["managed_service", "iaas", "migration", "consulting", "xaas", "business_support"]
STATUSES = [Status.CLOSED] * 10 + [Status.RESOLVED] * 3 + list(OPEN_STATUSES) * 1
SUBJECTS = ["디스크 사용률 경고", "VPN 연결 불가", "API 응답 지연", "IAM 권한 요청"]
EVENT_BODIES = [
    "로그 확인 중입니다.",
    "고객에게 진행 상황 안내",
    "원인 분석 완료",
    "Checked metrics",
]


@dataclass
class SeedResult:
    organisations: int
    contacts: int
    tickets: int
    events: int


def _next_id(model: type[Model]) -> int:
    return int(model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1


def _insert(model: type[Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)


def _reset_sequences(models: Sequence[type[Model]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite continues from max(rowid) by itself
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


def _staff(teams: list[Team]) -> list[int]:
    """A few fictional staff per team (created once; reused by later seeds)."""
    existing = list(TeamMembership.objects.filter(user__username__startswith="bench."))
    if existing:
        return [m.user_id for m in existing]
    hashed = make_password(BENCH_PASSWORD)
    ids: list[int] = []
    for team in teams:
        for n in range(4):
            user = User.objects.create(username=f"bench.{team.slug}.{n}", password=hashed)
            StaffProfile.objects.create(
                user=user, display_name=f"Bench {team.slug} {n}", role=StaffRole.STAFF
            )
            role = MemberRole.TEAM_LEAD if n == 0 else MemberRole.AGENT
            TeamMembership.objects.create(team=team, user=user, role=role)
            ids.append(user.pk)
    return ids


def _customers(rng: random.Random, organisations: int) -> list[tuple[int, int, int, str]]:
    """Create organisations with one contract and a few contacts each.

    Returns (organisation id, contract id, contact id, service line) choices for tickets.
    """
    org_id, contract_id = _next_id(Organisation), _next_id(Contract)
    contact_id = _next_id(Contact)
    email_id, phone_id = _next_id(ContactEmail), _next_id(ContactPhone)
    stamp = datetime.now(tz=UTC)
    orgs, contracts, contacts, emails, phones = [], [], [], [], []
    choices: list[tuple[int, int, int, str]] = []
    for n in range(organisations):
        oid, cid = org_id + n, contract_id + n
        line = LINES[n % len(LINES)]
        orgs.append(
            (
                oid,
                f"bench-{oid}",
                f"Bench customer {oid}",
                "ko",
                "Asia/Seoul",
                "",
                True,
                stamp,
                stamp,
            )
        )
        contracts.append(
            (
                cid,
                oid,
                f"bench-{cid}",
                f"Contract {cid}",
                json.dumps([line]),
                "24x7",
                "[]",
                True,
                stamp,
                stamp,
            )
        )
        for _ in range(3):
            contacts.append(
                (contact_id, oid, f"Contact {contact_id}", "", "", "", True, stamp, stamp)
            )
            emails.append((email_id, contact_id, f"c{contact_id}@bench-{oid}.example", True))
            phones.append((phone_id, contact_id, f"+82100000{contact_id % 10000:04d}", "", True))
            choices.append((oid, cid, contact_id, line))
            contact_id, email_id, phone_id = contact_id + 1, email_id + 1, phone_id + 1
    _insert(
        Organisation,
        [
            "id",
            "code",
            "name",
            "language",
            "timezone",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ],
        orgs,
    )
    _insert(
        Contract,
        [
            "id",
            "organisation_id",
            "code",
            "name",
            "service_lines",
            "support_hours",
            "clouds",
            "is_active",
            "created_at",
            "updated_at",
        ],
        contracts,
    )
    _insert(
        Contact,
        [
            "id",
            "organisation_id",
            "name",
            "title",
            "language",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ],
        contacts,
    )
    _insert(ContactEmail, ["id", "contact_id", "address", "is_primary"], emails)
    _insert(ContactPhone, ["id", "contact_id", "number", "label", "is_primary"], phones)
    rng.shuffle(choices)
    return choices


TICKET_COLUMNS = [
    "id",
    "reference",
    "kind",
    "channel",
    "status",
    "priority",
    "severity",
    "subject",
    "description",
    "organisation_id",
    "contact_id",
    "contract_id",
    "service_line",
    "team_id",
    "technical_team_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "due_at",
]
EVENT_COLUMNS = [
    "id",
    "ticket_id",
    "kind",
    "created_at",
    "actor_id",
    "actor_label",
    "changes",
    "body",
    "is_internal",
    "data",
]


class _Counters:
    def __init__(self) -> None:
        self.values: dict[tuple[str, int], int] = {
            (s.prefix, s.year): s.last_value for s in ReferenceSequence.objects.all()
        }

    def next(self, prefix: str, year: int) -> str:
        value = self.values.get((prefix, year), 0) + 1
        self.values[(prefix, year)] = value
        return f"{prefix}-{year}-{value:06d}"

    def save(self) -> None:
        for (prefix, year), value in self.values.items():
            ReferenceSequence.objects.update_or_create(
                prefix=prefix, year=year, defaults={"last_value": value}
            )


def _ticket_rows(
    rng: random.Random,
    *,
    count: int,
    first_id: int,
    first_event_id: int,
    customers: list[tuple[int, int, int, str]],
    routing: dict[str, tuple[int, int | None]],
    staff: list[int],
    counters: _Counters,
    span_days: int,
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    end = datetime.now(tz=UTC)
    event_id = first_event_id
    for n in range(count):
        tid = first_id + n
        oid, cid, contact, line = customers[n % len(customers)]
        incident = rng.random() < 0.35
        created = end - timedelta(seconds=rng.randint(60, span_days * 86400))
        status = rng.choice(STATUSES)
        team, tech = routing.get(line, (None, None))
        assignee = rng.choice(staff) if status != Status.NEW else None
        reference = counters.next("INC" if incident else "CSR", created.astimezone(SEOUL).year)
        events, moment = [], created
        n_events = rng.randint(5, 30)
        for k in range(n_events):
            kind = (
                EventKind.CREATED
                if k == 0
                else rng.choice(
                    [EventKind.NOTE, EventKind.REPLY, EventKind.FIELD_CHANGED, EventKind.CALL]
                )
            )
            changes = (
                {"status": {"before": None, "after": "new"}}
                if k == 0
                else (
                    {"priority": {"before": "normal", "after": "high"}}
                    if kind == EventKind.FIELD_CHANGED
                    else {}
                )
            )
            events.append(
                (
                    event_id,
                    tid,
                    kind,
                    moment,
                    assignee if k else None,
                    "",
                    json.dumps(changes),
                    rng.choice(EVENT_BODIES),
                    kind == EventKind.NOTE,
                    "{}",
                )
            )
            event_id += 1
            moment += timedelta(minutes=rng.randint(1, 120))
        closed = status in (Status.RESOLVED, Status.CLOSED)
        row = (
            tid,
            reference,
            "incident" if incident else "csr",
            rng.choice([Channel.EMAIL, Channel.PHONE, Channel.MONITORING, Channel.PORTAL]),
            status,
            rng.choice(list(Priority.values)),
            rng.choice(list(Severity.values)) if incident else "",
            f"Bench ticket {tid}: {rng.choice(SUBJECTS)}",
            "",
            oid,
            contact,
            cid,
            line,
            team,
            tech,
            assignee,
            created,
            moment,
            created + timedelta(minutes=5),
            moment if closed else None,
            moment if status == Status.CLOSED else None,
            None if closed else created + timedelta(hours=4),
        )
        yield row, events


def seed(
    *, tickets: int, organisations: int | None = None, span_days: int = 3 * 365, seed: int = 1
) -> SeedResult:
    """Add ``tickets`` tickets (and customers for them) to the current database."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    organisations = organisations or max(10, tickets // 500)
    teams = list(Team.objects.order_by("id"))
    if not teams:
        raise ValueError("No teams: run `opsdesk migrate` (it seeds the three teams) first.")
    routing = {
        rule.service_line: (rule.first_line_team_id, rule.technical_team_id)
        for rule in RoutingRule.objects.filter(contract__isnull=True)
    }
    with transaction.atomic():
        staff = _staff(teams)
        customers = _customers(rng, organisations)
    counters = _Counters()
    first_id, event_id = _next_id(Ticket), _next_id(TimelineEvent)
    made_events = 0
    rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for row, evs in _ticket_rows(
        rng,
        count=tickets,
        first_id=first_id,
        first_event_id=event_id,
        customers=customers,
        routing=routing,
        staff=staff,
        counters=counters,
        span_days=span_days,
    ):
        rows.append(row)
        events.extend(evs)
        if len(rows) >= BATCH:
            made_events += _flush(rows, events)
            rows, events = [], []
    made_events += _flush(rows, events)
    with transaction.atomic():
        counters.save()
        _reset_sequences(
            [Organisation, Contract, Contact, ContactEmail, ContactPhone, Ticket, TimelineEvent]
        )
    reference_counters_sync()  # new tickets number on past the loaded ones (PostgreSQL)
    _analyze()
    return SeedResult(
        organisations=organisations, contacts=len(customers), tickets=tickets, events=made_events
    )


def _analyze() -> None:
    """Refresh the planner's statistics. Autovacuum would do it some minutes later; until
    then PostgreSQL plans the queues for empty tables (a sort of every visible ticket
    instead of walking the index: 24 ms instead of 0.2 ms at 10k tickets)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _flush(rows: list[tuple[Any, ...]], events: list[tuple[Any, ...]]) -> int:
    with transaction.atomic():
        _insert(Ticket, TICKET_COLUMNS, rows)
        _insert(TimelineEvent, EVENT_COLUMNS, events)
    return len(events)
