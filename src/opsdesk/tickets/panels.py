"""Side panels other apps add to the ticket page (alerts of an incident, its escalation, ...).

The tickets app must not import the apps that build on it, so they register here from their
``AppConfig.ready``: a template and a function that returns its context, or None when the
panel has nothing to show for this ticket. Panels render in registration order below the
SLA clocks; each panel's function should cost one or two indexed queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from opsdesk.tickets.models import Ticket

PanelContext = Callable[[Ticket, User | AnonymousUser], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: PanelContext


_PANELS: dict[str, Panel] = {}


def panel_register(*, key: str, template: str, context: PanelContext) -> None:
    """Register (or replace, so a reloaded app does not add it twice) a ticket-page panel."""
    _PANELS[key] = Panel(key=key, template=template, context=context)


def panels_for(*, ticket: Ticket, actor: User | AnonymousUser) -> list[dict[str, Any]]:
    """The panels that have something to show, each as {"key", "template", "context"}."""
    shown = []
    for panel in _PANELS.values():
        context = panel.context(ticket, actor)
        if context is not None:
            shown.append({"key": panel.key, "template": panel.template, "context": context})
    return shown
