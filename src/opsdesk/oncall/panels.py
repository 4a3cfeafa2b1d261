"""The ticket page's escalation panel (tickets/panels.py registry; docs/subsystems/oncall.md).

Shows each escalation of the ticket: policy, current step, who was notified when over which
channel and what became of it, who acknowledged, when the next step is due, an Acknowledge
button, and for a mobilisation the answers and the bridge. One query for a ticket that never
escalated; otherwise two (escalations with their next step timer; their deliveries), and a
third only when someone was mobilised.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from opsdesk.core.people import display_name
from opsdesk.notify.channels.labels import channel_label
from opsdesk.oncall.enums import EscalationState, StepKind
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.selectors import (
    escalation_delivery_list,
    escalation_response_list,
    ticket_escalation_list,
)
from opsdesk.tickets.models import Ticket

PANEL_TEMPLATE = "oncall/_escalation_panel.html"


def _steps(escalation: Escalation) -> list[dict[str, Any]]:
    current = escalation.state == EscalationState.ACTIVE
    return [
        {
            "number": index + 1,
            "label": StepKind(step["kind"]).label if step["kind"] in StepKind.values else "?",
            "delay_minutes": step.get("delay_minutes", 0),
            "current": current and index == escalation.step_index,
        }
        for index, step in enumerate(escalation.snapshot.get("steps", []))
    ]


def escalation_panel_context(ticket: Ticket, actor: User | AnonymousUser) -> dict[str, Any] | None:
    escalations = ticket_escalation_list(ticket=ticket)
    if not escalations:
        return None
    deliveries = escalation_delivery_list(escalations=escalations)
    mobilised = [e for e in escalations if getattr(e, "mobilised", False)]
    responses = escalation_response_list(escalations=mobilised) if mobilised else []
    rows = []
    for escalation in escalations:
        source = f"escalation:{escalation.pk}"
        by = escalation.acknowledged_by
        rows.append(
            {
                "escalation": escalation,
                "policy": escalation.snapshot.get("name", ""),
                "steps": _steps(escalation),
                "repeat_count": escalation.snapshot.get("repeat_count", 0),
                "active": escalation.state == EscalationState.ACTIVE,
                "acknowledgeable": escalation.acknowledgeable,
                "next_due_at": getattr(escalation, "next_due_at", None),
                "acknowledged_by": display_name(by) if by is not None else "",
                "deliveries": [
                    {
                        "person": display_name(d.user) if d.user is not None else d.address,
                        "channel": channel_label(d.channel),
                        "delivery": d,
                    }
                    for d in deliveries
                    if d.source == source
                ],
                "responses": [
                    {"person": display_name(r.user), "response": r}
                    for r in responses
                    if r.escalation_id == escalation.pk
                ],
            }
        )
    return {"ticket": ticket, "escalations": rows}
