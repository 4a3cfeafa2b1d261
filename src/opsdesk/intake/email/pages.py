"""Replies to on-call notification mails acknowledge the page instead of opening a ticket;
see docs/subsystems/email.md ("Acknowledging a page by email").

Every on-call notification carries the signed acknowledgement link
(``/oncall/ack/<token>/``, oncall.services.ack_link). A reply that quotes it, or whose
In-Reply-To/References carry it as ``<ack.<token with ':' as '.'>@…>``, is a reply to that
page. The token's signature and age are checked by ``ack_link_load``; the sender must be the
paged person's own address (their email contact method, else their account's email). Then
``escalation_answer`` acknowledges exactly as the link's button does, and the timeline says
the acknowledgement came by email, with the first lines the person wrote.

Only mail classified as written by a person gets here: an out-of-office reply that quotes the
page never acknowledges it.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext as _

from opsdesk.core.errors import NotFound
from opsdesk.intake.email.results import ParsedMessage
from opsdesk.intake.email.selectors import person_email_addresses
from opsdesk.intake.models import InboundAction, InboundMessage
from opsdesk.oncall.enums import EscalationState, MobiliseResponse
from opsdesk.oncall.mobilise import escalation_answer
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.services import ack_link_load
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_system_event_add

MAX_CANDIDATES = 5
MAX_QUOTED_TEXT = 1000
_SIGNED_VALUE = r"([A-Za-z0-9_\-:]{10,400})"
_ID_TOKEN = re.compile(r"^ack\.([A-Za-z0-9_\-.]{10,400})@", re.I)
# Where the reply's own text ends and the quoted page begins.
_QUOTE_START = re.compile(
    r"^\s*(>|-{2,}\s*(original message|원본 메시지|forwarded message)|"
    r"on .+ wrote:$|.+작성:$|from:\s|보낸 사람:\s|sent:\s)",
    re.I,
)
_DECLINE = re.compile(
    r"^\s*(no\b|nope\b|decline|can'?t\b|cannot\b|unable\b|not available|"
    r"불가|못\s*(가|해|받|갑)|안\s*(돼|됩)|어렵)",
    re.I,
)
_COMING_IN = re.compile(
    r"\b(coming( in)?|on my way|omw|heading (in|over))\b|출근|출동|가는\s*중|이동\s*중|가겠|갑니다",
    re.I,
)


@dataclass(frozen=True, slots=True)
class PageReply:
    action: str
    reason: str
    ticket: Ticket | None = None
    event: TimelineEvent | None = None


@cache
def _link_pattern() -> re.Pattern[str]:
    """The ack link's path with the token as a group, from the URL configuration."""
    prefix, _sep, suffix = reverse("oncall:ack", args=["TOKEN"]).partition("TOKEN")
    return re.compile(re.escape(prefix) + _SIGNED_VALUE + re.escape(suffix))


def _looks_like_page_reply(parsed: ParsedMessage) -> bool:
    """Cheap test so ordinary customer mail pays one substring search, nothing more."""
    if any(_ID_TOKEN.match(i) for i in (parsed.in_reply_to, *parsed.references) if i):
        return True
    texts = (parsed.text_body, parsed.html_body_sanitised or "")
    return any("/ack/" in t or "%2Fack%2F" in t for t in texts)


def _candidates(parsed: ParsedMessage) -> list[str]:
    tokens = [
        match.group(1).replace(".", ":")
        for message_id in (parsed.in_reply_to, *reversed(parsed.references))
        if message_id and (match := _ID_TOKEN.match(message_id))
    ]
    pattern = _link_pattern()
    for text in (parsed.text_body, parsed.html_body_sanitised or ""):
        tokens += pattern.findall(text)
        if "%2F" in text:  # link-rewriting gateways (Safe Links) URL-encode the original
            tokens += pattern.findall(urllib.parse.unquote(text))
    return list(dict.fromkeys(tokens))[:MAX_CANDIDATES]


def _own_text(parsed: ParsedMessage) -> str:
    """What the person wrote above the quoted page (the first lines of the reply)."""
    lines: list[str] = []
    link = _link_pattern()
    for line in parsed.text_body.splitlines():
        if _QUOTE_START.match(line) or link.search(line):
            break
        lines.append(line.rstrip())
    return "\n".join(lines).strip()[:MAX_QUOTED_TEXT]


def reply_intent(text: str) -> str:
    """ "declined", "coming_in" or "acknowledged" (any other reply, "ack", "확인" …)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if _DECLINE.match(first):
        return "declined"
    if _COMING_IN.search(first):
        return MobiliseResponse.COMING_IN
    return MobiliseResponse.ACKNOWLEDGED


def _person_label(user: User, address: str) -> str:
    name = user.get_full_name() or user.get_username()
    return f"{name} <{address}>"


def page_reply_ingest(*, parsed: ParsedMessage, row: InboundMessage) -> PageReply | None:
    """Acknowledge the page this mail answers; None when it is not a reply to a page."""
    if not _looks_like_page_reply(parsed):
        return None
    sender = (parsed.from_address or "").lower()
    refused = ""
    for token in _candidates(parsed):
        try:
            escalation, user = ack_link_load(token=token)
        except NotFound:
            refused = "acknowledgement link invalid or expired"
            continue
        if sender not in person_email_addresses(user=user):
            refused = f"{sender} is not the paged person's address"
            continue
        return _answer(parsed, row, escalation, user)
    if refused:  # a page reply we cannot trust: kept for an admin, never a customer ticket
        return PageReply(InboundAction.QUARANTINED, f"on-call reply refused: {refused}")
    return None


def _answer(
    parsed: ParsedMessage, row: InboundMessage, escalation: Escalation, user: User
) -> PageReply:
    text = _own_text(parsed)
    intent = reply_intent(text)
    label = _person_label(user, parsed.from_address or "")
    data = {"oncall": "email_reply", "escalation": escalation.pk, "user": user.pk}
    data |= {"inbound_id": row.pk, "intent": intent}
    ticket = escalation.ticket
    if intent == "declined":
        event = ticket_system_event_add(
            ticket=ticket,
            actor_label=label,
            body=_("Replied by email without acknowledging: %(text)s") % {"text": text},
            data=data,
        )
        return PageReply(InboundAction.THREADED, "on-call reply: declined", ticket, event)
    mobilised = escalation.responses.filter(user=user).exists()
    if not escalation.acknowledgeable and not mobilised:
        # Acknowledging a stopped chain changes nothing (as with the link); the answer is
        # still worth keeping on the ticket.
        event = ticket_system_event_add(
            ticket=ticket,
            actor_label=label,
            body=_("Replied by email after the escalation had ended (%(state)s): %(text)s")
            % {"state": EscalationState(escalation.state).label, "text": text},
            data=data,
        )
        reason = f"on-call reply: escalation already {escalation.state}"
        return PageReply(InboundAction.THREADED, reason, ticket, event)
    escalation_answer(escalation=escalation, user=user, response=intent)
    body = (
        _("Acknowledged by email, coming in.")
        if intent == MobiliseResponse.COMING_IN
        else _("Acknowledged by email.")
    )
    event = ticket_system_event_add(
        ticket=ticket,
        actor_label=label,
        body=f"{body}\n{text}".strip(),
        data=data,
    )
    return PageReply(InboundAction.THREADED, f"on-call reply: {intent}", ticket, event)
