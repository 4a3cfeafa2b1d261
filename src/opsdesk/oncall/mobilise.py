"""Mobilise all: every member and lead of an urgent incident's teams, answers per person
(docs/subsystems/oncall.md#mobilise-all)."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.oncall.enums import EscalationState, MobiliseResponse
from opsdesk.oncall.models import Escalation, MobilisationResponse
from opsdesk.oncall.services import (
    escalation_acknowledge,
    escalation_event,
    escalation_make_urgent,
    person_notify,
)
from opsdesk.tickets.enums import Severity
from opsdesk.tickets.models import Ticket


def _mobilise_people(ticket: Ticket) -> list[User]:
    team_ids = [t for t in (ticket.team_id, ticket.technical_team_id) if t]
    return list(
        User.objects.filter(memberships__team_id__in=team_ids, is_active=True)
        .distinct()
        .order_by("id")
    )


def incident_mobilise(*, ticket: Ticket, bridge: str = "", actor: User | None = None) -> Escalation:
    """An urgent incident: notify every member and lead of the involved teams at once and
    track each person's answer. Joins the ticket's running escalation if there is one."""
    if ticket.severity != Severity.URGENT:
        raise InvalidInput(_("Only urgent incidents mobilise everyone."), field="severity")
    moment = now()
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update()
            .filter(ticket=ticket, state=EscalationState.ACTIVE)
            .first()
        )
        if escalation is not None:
            # Everyone is called now: pages of a chain that began as non-urgent (the ticket
            # was raised to urgent since) stop waiting for anyone's quiet hours.
            escalation = escalation_make_urgent(escalation, reason=_("everyone mobilised"))
        else:
            escalation = Escalation.objects.create(
                ticket=ticket,
                snapshot={"mobilise": True, "repeat_count": 0, "steps": []},
                reason=_("Everyone mobilised"),
                run_token=secrets.token_hex(8),
                started_at=moment,
            )
        escalation.ticket = ticket
        if bridge:
            escalation.bridge = bridge[:300]
            escalation.save(update_fields=["bridge"])
        people = _mobilise_people(ticket)
        for person in people:
            _response, created = MobilisationResponse.objects.get_or_create(
                escalation=escalation, user=person, defaults={"notified_at": moment}
            )
            if created:
                person_notify(escalation, person, at=moment)
        escalation_event(
            escalation,
            _("Everyone mobilised (%(count)d people). Bridge: %(bridge)s")
            % {"count": len(people), "bridge": escalation.bridge or "-"},
            {"oncall": "mobilised", "users": [p.pk for p in people], "by": actor and actor.pk},
        )
    return escalation


def mobilisation_respond(
    *, escalation: Escalation, user: User, response: str
) -> MobilisationResponse:
    """Record "acknowledged" or "coming in"; the first answer also stops any step chain."""
    if response not in (MobiliseResponse.ACKNOWLEDGED, MobiliseResponse.COMING_IN):
        raise InvalidInput(_("Unknown response."), field="response")
    moment = now()
    row, _created = MobilisationResponse.objects.update_or_create(
        escalation=escalation,
        user=user,
        defaults={"response": response, "responded_at": moment},
        create_defaults={"response": response, "responded_at": moment, "notified_at": moment},
    )
    escalation_acknowledge(escalation=escalation, user=user)
    escalation_event(
        escalation,
        _("%(name)s: %(response)s")
        % {"name": user.get_username(), "response": MobiliseResponse(response).label},
        {"oncall": "response", "user": user.pk, "response": response},
    )
    return row


def escalation_answer(*, escalation: Escalation, user: User, response: str) -> Escalation:
    """The acknowledge page and API: a mobilised person's answer is recorded per person;
    anyone else's acknowledges the chain."""
    if escalation.responses.filter(user=user).exists() or response == MobiliseResponse.COMING_IN:
        mobilisation_respond(escalation=escalation, user=user, response=response)
        escalation.refresh_from_db()
        return escalation
    return escalation_acknowledge(escalation=escalation, user=user)
