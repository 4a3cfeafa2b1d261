"""Who is on call, as pure functions over layers and overrides (no ORM).

See docs/subsystems/oncall.md. Turns are counted in elapsed UTC time from the first handoff,
so a turn is always ``length`` long (Asia/Seoul has no daylight saving).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise


@dataclass(frozen=True)
class Layer:
    order: int
    participants: tuple[int, ...]
    first_handoff: datetime
    length: timedelta


@dataclass(frozen=True)
class Cover:
    user_id: int
    starts_at: datetime
    ends_at: datetime


def layer_on_call(layer: Layer, at: datetime) -> int | None:
    if not layer.participants or at < layer.first_handoff or layer.length <= timedelta(0):
        return None
    turn = (at - layer.first_handoff) // layer.length
    return layer.participants[turn % len(layer.participants)]


def schedule_on_call(layers: list[Layer], covers: list[Cover], at: datetime) -> list[int]:
    """Overrides covering ``at`` win; otherwise the highest layer that has someone."""
    covering = [c.user_id for c in covers if c.starts_at <= at < c.ends_at]
    if covering:
        return list(dict.fromkeys(covering))
    for layer in sorted(layers, key=lambda item: item.order, reverse=True):
        person = layer_on_call(layer, at)
        if person is not None:
            return [person]
    return []


@dataclass(frozen=True)
class Shift:
    user_id: int
    starts_at: datetime
    ends_at: datetime


def _handoffs(layer: Layer, start: datetime, end: datetime) -> list[datetime]:
    if layer.length <= timedelta(0) or end <= layer.first_handoff:
        return []
    first = max(0, (start - layer.first_handoff) // layer.length)
    moments = []
    moment = layer.first_handoff + first * layer.length
    while moment < end:
        moments.append(moment)
        moment += layer.length
    return moments


def schedule_shifts(
    layers: list[Layer], covers: list[Cover], start: datetime, end: datetime
) -> list[Shift]:
    """Who is on call over ``start``–``end``, as one shift per unbroken stretch of the
    first person on call (the iCal feed). Only handoffs and override edges change hands."""
    edges = {start, end}
    for layer in layers:
        edges.update(m for m in _handoffs(layer, start, end) if start < m < end)
    for cover in covers:
        edges.update(m for m in (cover.starts_at, cover.ends_at) if start < m < end)
    points = sorted(edges)
    shifts: list[Shift] = []
    for begin, finish in pairwise(points):
        people = schedule_on_call(layers, covers, begin)
        if not people:
            continue
        last = shifts[-1] if shifts else None
        if last is not None and last.user_id == people[0] and last.ends_at == begin:
            shifts[-1] = Shift(last.user_id, last.starts_at, finish)
        else:
            shifts.append(Shift(people[0], begin, finish))
    return shifts
