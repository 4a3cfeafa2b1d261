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
