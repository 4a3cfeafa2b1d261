"""Input and output shapes of the tickets API. Tickets are identified by their public
reference; personal data (contact email and phone) is never part of a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, field_validator

from opsdesk.api.types import Code, Cursor, DbId, Limit, LongText, SearchText, Subject, Username
from opsdesk.core.people import display_name
from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tickets.enums import Channel, EventKind, Priority, Severity, Status, TicketKind
from opsdesk.tickets.selectors import QUEUES

Queue = Literal["mine", "team", "unassigned", "open", "all"]
assert set(QUEUES) == {"mine", "team", "unassigned", "open", "all"}  # noqa: S101


class _Out(BaseModel):
    """Output shapes validated by pydantic straight from the model objects' attributes.

    ninja's Schema wraps every object (and every nested one) in a Python attribute getter;
    for a 50-ticket page that was ~1,400 Python-level lookups and a third of the request's
    time. Plain pydantic models with from_attributes read the attributes in pydantic-core.
    """

    model_config = ConfigDict(from_attributes=True)


class OrganisationRef(_Out):
    code: str
    name: str


class ContactRef(_Out):
    id: int
    name: str


class ContractRef(_Out):
    code: str
    name: str


class TeamRef(_Out):
    slug: str
    name: str


class UserRef(_Out):
    username: str
    display_name: str


def user_ref(user: User | None) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.get_username(), "display_name": display_name(user)}


def _user_ref_before(value: Any) -> Any:
    return user_ref(value) if isinstance(value, User) else value


class TicketOut(_Out):
    reference: str
    kind: TicketKind
    channel: Channel
    status: Status
    priority: Priority
    severity: Severity | Literal[""]
    subject: str
    description: str
    organisation: OrganisationRef
    contact: ContactRef | None
    contract: ContractRef | None
    service_line: ServiceLine | Literal[""]
    team: TeamRef | None
    technical_team: TeamRef | None
    assignee: UserRef | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None
    sla_warn_at: datetime | None

    _assignee = field_validator("assignee", mode="before")(_user_ref_before)


class TicketPageOut(_Out):
    items: list[TicketOut]
    next_cursor: str | None


class TimelineEventOut(_Out):
    id: int
    kind: EventKind
    created_at: datetime
    actor: UserRef | None
    actor_label: str
    changes: dict[str, Any]
    body: str
    is_internal: bool

    _actor = field_validator("actor", mode="before")(_user_ref_before)


class TicketCreateIn(Schema):
    subject: Subject
    organisation: Code = Field(description="Organisation code.")
    description: LongText = ""
    kind: TicketKind = TicketKind.CSR
    channel: Channel = Channel.API
    priority: Priority = Priority.NORMAL
    severity: Severity | Literal[""] = ""
    service_line: ServiceLine | Literal[""] = ""
    contact: DbId | None = Field(None, description="Contact id.")
    contract: Code | None = Field(None, description="Contract code.")
    team: Code | None = Field(None, description="Team slug; overrides routing.")
    technical_team: Code | None = Field(None, description="Technical team slug.")
    assignee: Username | None = Field(None, description="Staff username; overrides routing.")
    auto_assign: bool = True


class TicketUpdateIn(Schema):
    """Only the fields sent are changed. ``status`` and ``assignee`` go through their own
    workflow services; the rest through ticket_update. Each appears on the timeline."""

    subject: Subject | None = None
    description: LongText | None = None
    kind: TicketKind | None = None
    priority: Priority | None = None
    severity: Severity | Literal[""] | None = None
    service_line: ServiceLine | Literal[""] | None = None
    contact: DbId | None = None
    contract: Code | None = None
    team: Code | None = None
    technical_team: Code | None = None
    assignee: Username | None = None
    status: Status | None = None
    status_comment: LongText | None = None

    @field_validator(
        "subject",
        "description",
        "kind",
        "priority",
        "severity",
        "service_line",
        "status",
        "status_comment",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Validators do not run on defaults, so this only sees values the client sent.
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class TicketListQuery(Schema):
    queue: Queue = "open"
    status: Status | None = None
    kind: TicketKind | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    organisation: Code | None = Field(None, description="Organisation code.")
    team: Code | None = Field(None, description="Team slug.")
    assignee: Username | None = Field(None, description="Staff username.")
    q: SearchText | None = Field(None, description="Reference or words of the subject.")
    sla: Literal["breached", "warning"] | None = Field(
        None, description="Only tickets whose running SLA clock is overdue or past its warning."
    )
    due_within: int | None = Field(
        None, ge=0, le=525_600, description="Only tickets due within this many minutes."
    )
    sort: Literal["new", "due"] = Field(
        "new", description="new: newest first; due: soonest SLA deadline first."
    )
    limit: Limit = 50
    cursor: Cursor | None = None


class NoteIn(Schema):
    body: LongText = Field(min_length=1)


class ClockOut(Schema):
    metric: str
    state: str
    target_minutes: int
    business_time: bool
    started_at: datetime
    stopped_at: datetime | None
    elapsed_minutes: int
    paused_minutes: int
    remaining_minutes: int
    due_at: datetime
