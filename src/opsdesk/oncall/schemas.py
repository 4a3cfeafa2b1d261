from __future__ import annotations

from datetime import datetime

from ninja import Schema


class WhoQuery(Schema):
    team: str
    at: datetime | None = None


class PersonOut(Schema):
    id: int
    username: str
    display_name: str


class WhoOut(Schema):
    team: str
    at: datetime
    mode: str
    people: list[PersonOut]


class EscalationOut(Schema):
    id: int
    ticket: str
    state: str
    step_index: int
    cycle: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    bridge: str


class RespondIn(Schema):
    response: str = "acknowledged"


class MobiliseIn(Schema):
    ticket: str
    bridge: str = ""


class ImportedOverrideOut(Schema):
    username: str
    starts_at: datetime
    ends_at: datetime


class IcalImportOut(Schema):
    dry_run: bool
    created: list[ImportedOverrideOut]
    existing: int
    past: int
    cancelled: int


class ProblemOut(Schema):
    loc: list[str]
    msg: str
    type: str


class ProblemsOut(Schema):
    detail: list[ProblemOut]


class ScheduleFeedOut(Schema):
    id: int
    name: str
    team: str
    url: str


class FeedsOut(Schema):
    person: str
    schedules: list[ScheduleFeedOut]
