"""Fictional demo data: customers, contracts, staff and about 200 tickets with history.

Every name, domain and number here is invented; numbers follow the 010-0000-xxxx and
02-0000-xxxx pattern reserved for fiction in this project.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction

from opsdesk.alerts.enums import SilenceKind
from opsdesk.alerts.services import integration_create, silence_create, webhook_receive
from opsdesk.core.clock import frozen_at, now
from opsdesk.intake.services import call_log
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.oncall.enums import ScheduleKind, StepKind
from opsdesk.oncall.services import policy_create, rotation_add, schedule_create
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tenancy.services import (
    contact_create,
    contract_create,
    organisation_create,
    staff_create,
    team_member_add,
)
from opsdesk.tickets.enums import Channel, Priority, Severity, Status, TicketKind
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import (
    ticket_assign,
    ticket_create,
    ticket_note_add,
    ticket_reply_add,
    ticket_status_change,
)

SEOUL = ZoneInfo("Asia/Seoul")
DEMO_PASSWORD = "opsdesk-demo"  # noqa: S105 - printed on purpose: it is demo data

# (username, display name, global role, [(team slug, role)])
STAFF = [
    ("admin", "관리자", StaffRole.ADMIN, []),
    ("head", "센터장 한도윤", StaffRole.CENTRE_HEAD, []),
    (
        "ops.lead",
        "운영팀장 서지호",
        StaffRole.STAFF,
        [("service-operations", MemberRole.TEAM_LEAD)],
    ),
    ("agent1", "상담원 김하늘", StaffRole.STAFF, [("service-operations", MemberRole.AGENT)]),
    ("agent2", "상담원 이바다", StaffRole.STAFF, [("service-operations", MemberRole.AGENT)]),
    ("agent3", "상담원 박구름", StaffRole.STAFF, [("service-operations", MemberRole.AGENT)]),
    ("plat.lead", "플랫폼팀장 최산", StaffRole.STAFF, [("platform-service", MemberRole.TEAM_LEAD)]),
    ("eng1", "엔지니어 정나무", StaffRole.STAFF, [("platform-service", MemberRole.ENGINEER)]),
    ("eng2", "엔지니어 강바람", StaffRole.STAFF, [("platform-service", MemberRole.ENGINEER)]),
    ("sup.lead", "지원팀장 윤별", StaffRole.STAFF, [("service-support", MemberRole.TEAM_LEAD)]),
    ("eng3", "컨설턴트 임솔", StaffRole.STAFF, [("service-support", MemberRole.ENGINEER)]),
]

# (code, name, domain, office number, language, [(contract code suffix, lines, hours, clouds)])
CUSTOMERS = [
    (
        "hanbit-logistics",
        "한빛물류",
        "hanbit-logistics.example",
        "02-0000-0101",
        "ko",
        [("msp", ["managed_service", "iaas"], "24x7", ["aws"])],
    ),
    (
        "saebyeol-bank",
        "새별은행",
        "saebyeol-bank.example",
        "02-0000-0102",
        "ko",
        [("mig", ["migration"], "business", ["naver"]), ("sec", ["consulting"], "business", [])],
    ),
    (
        "pureun-health",
        "푸른헬스케어",
        "pureun-health.example",
        "02-0000-0103",
        "ko",
        [("iaas", ["iaas", "xaas"], "24x7", ["nhn", "on_premises"])],
    ),
    (
        "daon-retail",
        "다온리테일",
        "daon-retail.example",
        "02-0000-0104",
        "ko",
        [("consult", ["consulting", "business_support"], "business", ["gcp"])],
    ),
    (
        "northwind-kr",
        "Northwind Korea",
        "northwind.example",
        "02-0000-0105",
        "en",
        [("msp", ["managed_service"], "24x7", ["azure", "aws"])],
    ),
    (
        "gaon-games",
        "가온게임즈",
        "gaon-games.example",
        "02-0000-0106",
        "ko",
        [("xaas", ["xaas", "migration"], "24x7", ["kt", "aws"])],
    ),
]

CONTACT_NAMES = [
    "김민준",
    "이서연",
    "박도현",
    "최지우",
    "정하은",
    "Alex Morgan",
    "강유진",
    "조은호",
]

SUBJECTS = {
    TicketKind.CSR: [
        "보안그룹 인바운드 규칙 추가 요청",
        "신규 계정 IAM 권한 부여 요청",
        "RDS 인스턴스 사양 변경 요청",
        "월간 비용 리포트 문의",
        "백업 보관 주기 변경 요청",
        "VPN 터널 추가 구성 요청",
        "Request: add a read replica",
        "모니터링 알림 수신자 변경",
    ],
    TicketKind.INCIDENT: [
        "웹 서비스 응답 지연 (5xx 증가)",
        "DB 커넥션 풀 고갈",
        "로드밸런서 헬스체크 실패",
        "디스크 사용률 95% 초과",
        "Kubernetes 노드 NotReady",
        "Hadoop 작업 실패 반복",
        "CSP 리전 네트워크 장애 의심",
        "Login API timeouts from mobile app",
    ],
}


@dataclass
class DemoSummary:
    staff: list[tuple[str, str]]
    organisations: int
    tickets: int


def demo_exists() -> bool:
    return Organisation.objects.filter(code=CUSTOMERS[0][0]).exists()


@transaction.atomic
def demo_load(*, tickets: int = 200, seed: int = 7) -> DemoSummary:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    users = _load_staff()
    contacts, contracts = _load_customers()
    agents = [u for u in users.values() if u.memberships.exists()]
    start = now() - timedelta(days=90)
    made = 0
    for index in range(tickets):
        at = start + timedelta(minutes=rng.randint(0, 90 * 24 * 60 - 60))
        if index >= tickets - 12:  # a few from today, so the queues look alive
            at = now() - timedelta(minutes=rng.randint(5, 600))
        _demo_ticket(rng, at=at, contacts=contacts, contracts=contracts, agents=agents)
        made += 1
    _settle_history()
    _load_oncall(users)
    _load_monitoring(users)
    return DemoSummary(
        staff=[(name, DEMO_PASSWORD) for name in users],
        organisations=len(CUSTOMERS),
        tickets=made,
    )


# Who is on site in business hours and who takes the weekly after-hours rotation, per team.
ROSTERS = {
    "service-operations": ["agent1", "agent2", "agent3"],
    "platform-service": ["eng1", "eng2"],
    "service-support": ["eng3", "sup.lead"],
}


def _load_oncall(users: dict[str, User]) -> None:
    """The emergency contact network: an on-site roster (everyone on site in business
    hours, one layer each, so new tickets go round-robin among them) and a weekly on-call
    rotation handing over on Mondays at 09:00; a policy that pages the person on call and,
    ten minutes unanswered, the team lead, once more."""
    local = now().astimezone(SEOUL)
    monday = local.date() - timedelta(days=local.weekday())
    for slug, names in ROSTERS.items():
        team = Team.objects.get(slug=slug)
        people = [users[n] for n in names]
        on_site = schedule_create(team=team, name=f"{team.name} 상주", kind=ScheduleKind.ON_SITE)
        for order, person in enumerate(people):
            rotation_add(
                schedule=on_site,
                participants=[person],
                start_date=monday,
                handoff_time=time(9),
                order=order,
            )
        on_call = schedule_create(team=team, name=f"{team.name} 당직", kind=ScheduleKind.ON_CALL)
        rotation_add(schedule=on_call, participants=people, start_date=monday, handoff_time=time(9))
        policy_create(
            name=f"{team.name} 장애 대응",
            team=team,
            steps=[
                {"kind": StepKind.NOTIFY_ONCALL},
                {"kind": StepKind.NOTIFY_TEAM_LEAD, "delay_minutes": 10},
            ],
            repeat_count=1,
        )


def _load_monitoring(users: dict[str, User]) -> None:
    """A Prometheus Alertmanager integration for the first customer, one alert that fired a
    quarter of an hour ago (an open incident, its escalation running) and tonight's
    maintenance window on that customer's database hosts."""
    customer = Organisation.objects.get(code=CUSTOMERS[0][0])
    # Through the customer's contract, so the incident's routing brings in the platform
    # team (monitoring is theirs) next to first-line operations.
    contract = Contract.objects.filter(organisation=customer).order_by("id").first()
    integration = integration_create(
        kind="alertmanager",
        name="prometheus-prod",
        organisation=customer,
        contract=contract,
        group_by=["alertname"],
    )
    fired = now() - timedelta(minutes=15)
    alert = {
        "status": "firing",
        "labels": {"alertname": "HighDiskUsage", "instance": "web-01:9100", "severity": "critical"},
        "annotations": {"summary": "web-01 디스크 사용률 92%"},
        "startsAt": fired.isoformat(),
        "fingerprint": "demo0000000000001",
    }
    body = json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()
    with frozen_at(fired):
        webhook_receive(kind="alertmanager", token=integration.token, body=body, headers={})
    tonight = now().astimezone(SEOUL).replace(hour=23, minute=0, second=0, microsecond=0)
    silence_create(
        matchers=['instance=~"db-.*"'],
        starts_at=tonight,
        ends_at=tonight + timedelta(hours=3),
        kind=SilenceKind.MAINTENANCE,
        integration=integration,
        created_by=users["plat.lead"],
        comment="DB 패치 작업",
    )


def _settle_history() -> None:
    """Deadlines that passed before the demo existed are history: record them as announced,
    so the first worker start does not page everyone for three months of back-dated
    tickets. Today's tickets keep their live timers."""
    cutoff = now() - timedelta(hours=12)
    Timer.objects.filter(key__startswith="sla:", due_at__lt=cutoff).update(
        state=TimerState.DONE, finished_at=now()
    )


def _load_staff() -> dict[str, User]:
    users: dict[str, User] = {}
    # One hash for everyone: hashing is deliberately slow, and it is one demo password.
    hashed = make_password(DEMO_PASSWORD)
    for index, (username, display, role, memberships) in enumerate(STAFF, start=1):
        user = staff_create(
            username=username,
            display_name=display,
            password=None,
            email=f"{username}@opsdesk.example",
            role=role,
            phone=f"010-0000-{index:04d}",
        )
        user.password = hashed
        user.save(update_fields=["password"])
        for slug, member_role in memberships:
            team_member_add(team=Team.objects.get(slug=slug), user=user, role=member_role)
        users[username] = user
    return users


def _load_customers() -> tuple[list[Contact], dict[int, list[Contract]]]:
    contacts: list[Contact] = []
    contracts: dict[int, list[Contract]] = {}
    phone_no = 100
    for code, name, domain, office, language, deals in CUSTOMERS:
        org = organisation_create(
            code=code, name=name, language=language, domains=[domain], phones=[office]
        )
        contracts[org.pk] = [
            contract_create(
                organisation=org,
                code=f"{code}-{suffix}",
                name=f"{name} {suffix.upper()}",
                service_lines=lines,
                support_hours=hours,
                clouds=clouds,
            )
            for suffix, lines, hours, clouds in deals
        ]
        for person in range(3):
            phone_no += 1
            person_name = CONTACT_NAMES[(phone_no + person) % len(CONTACT_NAMES)]
            contacts.append(
                contact_create(
                    organisation=org,
                    name=person_name,
                    emails=[f"user{phone_no}@{domain}"],
                    phones=[f"010-0000-{phone_no:04d}"],
                    title="IT 담당" if language == "ko" else "IT manager",
                )
            )
    return contacts, contracts


def _demo_ticket(
    rng: random.Random,
    *,
    at: datetime,
    contacts: list[Contact],
    contracts: dict[int, list[Contract]],
    agents: list[User],
) -> Ticket:
    contact = rng.choice(contacts)
    if contact.organisation is None:  # every demo contact has one; keeps mypy honest
        raise RuntimeError("demo contact without organisation")
    contract = rng.choice(contracts[contact.organisation.pk])
    kind = rng.choice([TicketKind.CSR, TicketKind.CSR, TicketKind.INCIDENT])
    channel = rng.choice([Channel.PHONE, Channel.EMAIL, Channel.EMAIL, Channel.MONITORING])
    if kind == TicketKind.CSR and channel == Channel.MONITORING:
        channel = Channel.PORTAL
    severity = rng.choice(list(Severity.values)) if kind == TicketKind.INCIDENT else ""
    priority = Priority.URGENT if severity == Severity.URGENT else rng.choice(list(Priority.values))
    agent = rng.choice(agents)
    with frozen_at(at):
        ticket = ticket_create(
            actor=None if channel == Channel.MONITORING else agent,
            actor_label="Prometheus" if channel == Channel.MONITORING else "",
            organisation=contact.organisation,
            contact=None if channel == Channel.MONITORING else contact,
            contract=contract,
            kind=kind,
            channel=channel,
            subject=rng.choice(SUBJECTS[TicketKind(kind)]),
            description="고객 요청 내용을 확인하고 있습니다.",
            priority=priority,
            severity=severity,
        )
    return _demo_history(rng, ticket=ticket, agents=agents, contact=contact)


def _demo_history(
    rng: random.Random, *, ticket: Ticket, agents: list[User], contact: Contact
) -> Ticket:
    step = ticket.created_at
    final = rng.choice(
        [Status.NEW, Status.OPEN, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_VENDOR]
        + [Status.RESOLVED] * 3
        + [Status.CLOSED] * 4
    )
    agent = ticket.assignee or rng.choice(agents)
    if ticket.channel == Channel.PHONE:
        step += timedelta(minutes=1)
        with frozen_at(step):
            call_log(
                agent=agent,
                number=str(contact.phones.first()),
                notes="고객 통화: 증상 및 영향 범위 확인",
                duration_seconds=rng.randint(60, 900),
                ticket=ticket,
            )
    if final == Status.NEW:
        return ticket
    plan: list[tuple[str, str]] = [("assign", ""), ("note", "로그 확인 중입니다.")]
    plan.append(("reply", "요청하신 건 확인 후 조치하겠습니다."))
    if final in (Status.PENDING_CUSTOMER, Status.PENDING_VENDOR):
        plan.append(("status", final))
    if final in (Status.RESOLVED, Status.CLOSED):
        plan += [("note", "원인 파악 및 조치 완료."), ("status", Status.RESOLVED)]
    if final == Status.CLOSED:
        plan.append(("status", Status.CLOSED))
    for action, value in plan:
        step += timedelta(minutes=rng.randint(3, 240))
        if step > now():
            break
        with frozen_at(step):
            if action == "assign":
                ticket = ticket_assign(ticket=ticket, actor=agent, assignee=rng.choice(agents))
            elif action == "note":
                ticket_note_add(ticket=ticket, actor=agent, body=value)
            elif action == "reply":
                ticket_reply_add(ticket=ticket, actor=agent, body=value)
            else:
                ticket = ticket_status_change(ticket=ticket, actor=agent, status=value)
    return ticket
