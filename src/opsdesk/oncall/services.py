"""On-call writes: schedules, policies, the escalation engine (docs/subsystems/oncall.md).

The engine follows Grafana OnCall: the policy is frozen into ``Escalation.snapshot`` when the
chain starts; each step is one durable timer (key ``esc:<id>``) whose payload carries the
escalation's run token, step index and cycle; a run whose token, step or cycle no longer
matches exits. Acknowledging or resolving changes the token, so queued timers exit too.
Each message is a Delivery row sent through the notify outbox (its own timer
``delivery:<id>``), so a step commits its deliveries once and a slow provider never holds the
escalation's row lock. Whether a chain is urgent is decided once, at the start, and frozen in
the snapshot: non-urgent pages wait for the end of the person's quiet hours.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_scope
from opsdesk.core.errors import InvalidInput, NotFound
from opsdesk.core.people import display_name
from opsdesk.core.rows import row_insert
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.timers import timer_cancel, timer_schedule
from opsdesk.notify.channels.base import Message
from opsdesk.notify.channels.delivery import delivery_create
from opsdesk.notify.channels.registry import channel_get
from opsdesk.notify.models import Delivery
from opsdesk.notify.outbox import delivery_cancel, delivery_expedite, delivery_queue
from opsdesk.notify.quiet import notice_is_urgent
from opsdesk.oncall.enums import EscalationState, StepKind
from opsdesk.oncall.models import (
    ContactMethod,
    Escalation,
    EscalationPolicy,
    EscalationStep,
    NotificationRule,
    Override,
    Rotation,
    Schedule,
)
from opsdesk.oncall.selectors import policy_select, step_recipients
from opsdesk.tenancy.models import Contract, Team
from opsdesk.tickets.enums import Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_system_event_add

STEP_TIMER = "oncall.step"
NOTIFY_TIMER = "oncall.notify"
ACK_SALT = "opsdesk.oncall.ack"
ACK_LINK_MAX_AGE = 24 * 3600
_CLOSED = (Status.RESOLVED, Status.CLOSED)


# --- schedules -------------------------------------------------------------------------


def schedule_create(*, team: Team, name: str, kind: str, timezone: str = "Asia/Seoul") -> Schedule:
    return Schedule.objects.create(team=team, name=name, kind=kind, timezone=timezone)


def rotation_add(
    *,
    schedule: Schedule,
    participants: list[User],
    start_date: date,
    handoff_time: time,
    length_days: int = 7,
    length_hours: int | None = None,
    order: int = 0,
) -> Rotation:
    hours = length_hours if length_hours is not None else length_days * 24
    if hours <= 0 or not participants:
        raise InvalidInput(_("A rotation needs people and a positive length."), field="length")
    return Rotation.objects.create(
        schedule=schedule,
        order=order,
        participants=[p.pk for p in participants],
        length_hours=hours,
        handoff_time=handoff_time,
        start_date=start_date,
    )


def override_add(
    *, schedule: Schedule, user: User, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> Override:
    if ends_at <= starts_at:
        raise InvalidInput(_("An override must end after it starts."), field="ends_at")
    return Override.objects.create(
        schedule=schedule, user=user, starts_at=starts_at, ends_at=ends_at, reason=reason
    )


# --- policies and people ---------------------------------------------------------------


def policy_create(
    *,
    name: str,
    steps: list[dict[str, Any]],
    team: Team | None = None,
    contract: Contract | None = None,
    mode: str = "any",
    repeat_count: int = 0,
) -> EscalationPolicy:
    """``steps``: dicts with ``kind`` and optional ``user``, ``team``, ``delay_minutes``."""
    with transaction.atomic():
        policy = EscalationPolicy.objects.create(
            name=name, team=team, contract=contract, mode=mode, repeat_count=repeat_count
        )
        for order, step in enumerate(steps):
            if step["kind"] not in StepKind.values:
                raise InvalidInput(_("Unknown step kind."), field="steps")
            EscalationStep.objects.create(
                policy=policy,
                order=order,
                kind=step["kind"],
                user=step.get("user"),
                team=step.get("team"),
                delay_minutes=step.get("delay_minutes", 0),
            )
    return policy


def contact_method_set(*, user: User, channel: str, address: str) -> ContactMethod:
    if channel_get(channel) is None:
        raise InvalidInput(_("Unknown channel."), field="channel")
    method, _created = ContactMethod.objects.update_or_create(
        user=user, channel=channel, defaults={"address": address}
    )
    return method


def notification_rule_add(
    *, user: User, channel: str, delay_minutes: int = 0, urgent: bool = True
) -> NotificationRule:
    if channel_get(channel) is None:
        raise InvalidInput(_("Unknown channel."), field="channel")
    order = NotificationRule.objects.filter(user=user, urgent=urgent).count()
    return NotificationRule.objects.create(
        user=user, urgent=urgent, order=order, channel=channel, delay_minutes=delay_minutes
    )


# --- acknowledgement links -------------------------------------------------------------


def ack_link(*, escalation: Escalation, user: User) -> str:
    token = signing.dumps({"e": escalation.pk, "u": user.pk}, salt=ACK_SALT)
    path = reverse("oncall:ack", args=[token])
    return f"{settings.OPSDESK_BASE_URL.rstrip('/')}{path}"


def ack_link_load(*, token: str) -> tuple[Escalation, User]:
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=ACK_LINK_MAX_AGE)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise NotFound(_("This acknowledgement link is invalid or has expired.")) from exc
    escalation = Escalation.objects.select_related("ticket").filter(pk=data.get("e")).first()
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if escalation is None or user is None:
        raise NotFound(_("This acknowledgement link is invalid or has expired."))
    return escalation, user


# --- the engine ------------------------------------------------------------------------


def escalation_event(
    escalation: Escalation, body: str, data: dict[str, Any], *, new_ticket: bool = False
) -> None:
    ticket_system_event_add(
        new_ticket=new_ticket,
        ticket=escalation.ticket,
        actor_label=_("Escalation"),
        body=body,
        data={"escalation": escalation.pk, **data},
    )


def _schedule_step(escalation: Escalation, *, after: datetime) -> None:
    steps = escalation.snapshot["steps"]
    delay = steps[escalation.step_index]["delay_minutes"]
    timer_schedule(
        key=f"esc:{escalation.pk}",
        kind=STEP_TIMER,
        due_at=after + timedelta(minutes=delay),
        payload={
            "escalation": escalation.pk,
            "token": escalation.run_token,
            "step": escalation.step_index,
            "cycle": escalation.cycle,
        },
    )


def escalation_start(
    *, ticket: Ticket, reason: str, sla_breach: bool = False, new_ticket: bool = False
) -> Escalation | None:
    """Start the ticket's escalation through the selected policy, or return the one already
    running. None when no policy applies (the caller falls back to its own notices).

    Urgency (docs/subsystems/notifications.md#quiet-hours) is frozen in the snapshot; joining
    a non-urgent chain with an urgent reason (the breach after an SLA warning) raises it.

    ``new_ticket``: the ticket was opened in the caller's transaction (a monitoring
    incident), so no chain can be running for it and no other process can start one before
    the commit: no look-up, no savepoint, no lock of the ticket for the timeline entry."""
    urgent = notice_is_urgent(
        severity=ticket.severity, priority=ticket.priority, sla_breach=sla_breach
    )
    if not new_ticket:
        running = Escalation.objects.filter(ticket=ticket, state=EscalationState.ACTIVE).first()
        if running is not None:
            return _join(running, urgent=urgent, reason=reason)
    moment = now()
    with config_scope():  # the mode's calendar and the policies: one configuration check
        selected = policy_select(ticket=ticket, at=moment)
    if selected is None:
        return None
    policy, snapshot = selected
    if not snapshot["steps"]:
        return None
    snapshot["urgent"] = urgent
    escalation = Escalation(
        ticket=ticket,
        policy=policy,
        snapshot=snapshot,
        reason=reason[:200],
        run_token=secrets.token_hex(8),
        started_at=moment,
    )
    if new_ticket:
        row_insert(escalation)
    else:
        try:
            with transaction.atomic():
                escalation.save(force_insert=True)
        except IntegrityError:  # another process started it a moment ago
            running = Escalation.objects.filter(ticket=ticket, state=EscalationState.ACTIVE).first()
            return _join(running, urgent=urgent, reason=reason) if running is not None else None
    _schedule_step(escalation, after=moment)
    escalation_event(
        escalation,
        _("Escalation started through policy %(name)s: %(reason)s")
        % {"name": policy.name, "reason": reason},
        {"oncall": "started", "policy": policy.pk},
        new_ticket=new_ticket,
    )
    return escalation


def _join(running: Escalation, *, urgent: bool, reason: str) -> Escalation:
    """The running chain, made urgent if this cause is urgent and it was not."""
    if urgent and not running.snapshot.get("urgent", True):
        return escalation_make_urgent(running, reason=reason)
    return running


def escalation_make_urgent(escalation: Escalation, *, reason: str) -> Escalation:
    """Raise a running chain to urgent: its later pages ignore quiet hours and follow the
    urgent rules, and the pages still waiting for someone's quiet hours to end go now."""
    with transaction.atomic():
        current = (
            Escalation.objects.select_for_update().select_related("ticket").get(pk=escalation.pk)
        )
        if current.state != EscalationState.ACTIVE or current.snapshot.get("urgent", True):
            return current
        current.snapshot = {**current.snapshot, "urgent": True}
        current.save(update_fields=["snapshot"])
        released = delivery_expedite(source=_source(current))
        escalation_event(
            current,
            _("The escalation is now urgent (%(reason)s): pages no longer wait for quiet hours.")
            % {"reason": reason},
            {"oncall": "urgent", "released": released},
        )
    return current


def _source(escalation: Escalation) -> str:
    """What the escalation's deliveries carry as ``Delivery.source``."""
    return f"escalation:{escalation.pk}"


def _stop(escalation: Escalation, *, state: str, by: User | None = None) -> None:
    moment = now()
    escalation.state = state
    escalation.run_token = secrets.token_hex(8)
    escalation.finished_at = moment
    fields = ["state", "run_token", "finished_at"]
    if by is not None:
        escalation.acknowledged_by = by
        escalation.acknowledged_at = moment
        fields += ["acknowledged_by", "acknowledged_at"]
    escalation.save(update_fields=fields)
    timer_cancel(key=f"esc:{escalation.pk}")
    if state == EscalationState.ACKNOWLEDGED:
        # Someone has it: the pages still waiting for quiet hours to end would wake people in
        # the morning for nothing. Urgent ones due now stay: after a mobilisation everyone
        # must still get the call although the first answer acknowledged the chain.
        delivery_cancel(source=_source(escalation), urgent=False)
    elif state == EscalationState.RESOLVED:
        delivery_cancel(source=_source(escalation))  # nothing is left to say


def escalation_acknowledge(*, escalation: Escalation, user: User) -> Escalation:
    """Stop the chain, or take over one that ran out unanswered (its held pages are
    withdrawn). Acknowledging twice, or after it was resolved, changes nothing."""
    with transaction.atomic():
        current = (
            Escalation.objects.select_for_update().select_related("ticket").get(pk=escalation.pk)
        )
        if not current.acknowledgeable:
            return current
        _stop(current, state=EscalationState.ACKNOWLEDGED, by=user)
        escalation_event(
            current,
            _("Acknowledged by %(name)s.") % {"name": display_name(user)},
            {"oncall": "acknowledged", "user": user.pk},
        )
    return current


def _still_current(escalation: Escalation, payload: dict[str, Any]) -> bool:
    return (
        escalation.state == EscalationState.ACTIVE
        and payload.get("token") == escalation.run_token
        and payload.get("step") == escalation.step_index
        and payload.get("cycle") == escalation.cycle
    )


def escalation_step_run(*, escalation_id: int, payload: dict[str, Any]) -> bool:
    """Run the step the payload names if it is still the current one. True if it ran."""
    with transaction.atomic():
        return _step_run_locked(escalation_id, payload)


def _step_run_locked(escalation_id: int, payload: dict[str, Any]) -> bool:
    escalation = (
        Escalation.objects.select_for_update().select_related("ticket").filter(pk=escalation_id)
    ).first()
    if escalation is None or not _still_current(escalation, payload):
        return False
    if escalation.ticket.status in _CLOSED:
        _stop(escalation, state=EscalationState.RESOLVED)
        escalation_event(
            escalation, _("Escalation stopped: the ticket is resolved."), {"oncall": "resolved"}
        )
        return False
    moment = now()
    step = escalation.snapshot["steps"][escalation.step_index]
    people = step_recipients(step=step, ticket=escalation.ticket, at=moment)
    for person in people:
        person_notify(escalation, person, at=moment)
    escalation_event(
        escalation,
        _("Step %(n)d (%(kind)s) notified: %(people)s")
        % {
            "n": escalation.step_index + 1,
            "kind": StepKind(step["kind"]).label,
            "people": ", ".join(display_name(p) for p in people) or _("nobody"),
        },
        {
            "oncall": "step",
            "step": escalation.step_index,
            "cycle": escalation.cycle,
            "users": [p.pk for p in people],
        },
    )
    _advance(escalation, at=moment)
    return True


def _advance(escalation: Escalation, *, at: datetime) -> None:
    escalation.step_index += 1
    if escalation.step_index >= len(escalation.snapshot["steps"]):
        escalation.step_index = 0
        escalation.cycle += 1
    if escalation.cycle > escalation.snapshot["repeat_count"]:
        _stop(escalation, state=EscalationState.EXHAUSTED)
        escalation_event(
            escalation, _("Escalation exhausted: nobody acknowledged."), {"oncall": "exhausted"}
        )
        return
    escalation.save(update_fields=["step_index", "cycle"])
    _schedule_step(escalation, after=at)


# --- notifying one person --------------------------------------------------------------


def _message(escalation: Escalation, person: User) -> Message:
    ticket = escalation.ticket
    return Message(
        subject=_("[%(ref)s] Escalation: %(subject)s")
        % {"ref": ticket.reference, "subject": ticket.subject},
        body=_("%(reason)s\nAcknowledge: open the link below.") % {"reason": escalation.reason},
        url=ack_link(escalation=escalation, user=person),
    )


def _address(person: User, channel: str) -> str:
    method = ContactMethod.objects.filter(user=person, channel=channel).first()
    if method is not None:
        return method.address
    return str(person.pk) if channel == "screen" else (person.email if channel == "email" else "")


def _rules(person: User, *, urgent: bool) -> list[NotificationRule]:
    """The person's rules for this urgency. Someone who set up only urgent rules gets a
    non-urgent page the same way (after their quiet hours), not a bare screen notice."""
    rules = list(NotificationRule.objects.filter(user=person).order_by("urgent", "order"))
    chosen = [r for r in rules if r.urgent == urgent]
    return chosen or ([] if urgent else rules)


def person_notify(escalation: Escalation, person: User, *, at: datetime) -> None:
    """Follow the person's notification rules for the chain's urgency (non-urgent rules,
    else the urgent ones); without rules: screen and email."""
    rules = _rules(person, urgent=escalation.snapshot.get("urgent", True))
    plan = [(r.channel, r.delay_minutes) for r in rules] or [("screen", 0), ("email", 0)]
    for index, (channel, delay) in enumerate(plan):
        if delay == 0:
            _deliver(escalation, person, channel)
            continue
        timer_schedule(
            key=f"esc:{escalation.pk}:{escalation.cycle}:{escalation.step_index}:{person.pk}:{index}",
            kind=NOTIFY_TIMER,
            due_at=at + timedelta(minutes=delay),
            payload={
                "escalation": escalation.pk,
                "token": escalation.run_token,
                "user": person.pk,
                "channel": channel,
            },
        )


def _deliver(escalation: Escalation, person: User, channel: str) -> Delivery | None:
    address = _address(person, channel)
    if not address:
        return None
    delivery = delivery_create(
        channel=channel,
        address=address,
        message=_message(escalation, person),
        user=person,
        ticket=escalation.ticket,
        source=_source(escalation),
        urgent=escalation.snapshot.get("urgent", True),
    )
    delivery_queue(delivery=delivery)  # now, or at the end of the person's quiet hours
    return delivery


def escalation_notify_run(*, payload: dict[str, Any]) -> bool:
    """A delayed notification rule ("a call after 5 minutes"): only while still unacknowledged."""
    escalation = (
        Escalation.objects.select_related("ticket")
        .filter(pk=int(payload.get("escalation") or 0))
        .first()
    )
    person = User.objects.filter(pk=int(payload.get("user") or 0), is_active=True).first()
    if escalation is None or person is None:
        return False
    if escalation.state != EscalationState.ACTIVE or escalation.run_token != payload.get("token"):
        return False
    return _deliver(escalation, person, str(payload.get("channel"))) is not None


def escalation_audit() -> int:
    """Reschedule the current step of active step-chains whose timer is gone (a timer row
    failed or was cancelled by hand). Run by `opsdesk oncall audit`. Returns how many."""
    live = Timer.objects.filter(
        kind=STEP_TIMER, state__in=[TimerState.PENDING, TimerState.RUNNING]
    ).values_list("key", flat=True)
    live_keys = set(live)
    repaired = 0
    for escalation in Escalation.objects.filter(state=EscalationState.ACTIVE).select_related(
        "ticket"
    ):
        if not escalation.snapshot.get("steps") or f"esc:{escalation.pk}" in live_keys:
            continue
        _schedule_step(escalation, after=now())
        repaired += 1
    return repaired
