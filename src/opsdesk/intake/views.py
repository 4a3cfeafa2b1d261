"""Views (agent UI) for the phone line: log a call, recognising the caller as the agent types."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from opsdesk.core.errors import InvalidInput, NotFound
from opsdesk.intake.forms import NEW_TICKET, CallLogForm
from opsdesk.intake.selectors import caller_match
from opsdesk.intake.services import call_log
from opsdesk.tenancy.decorators import staff_required
from opsdesk.tenancy.models import Contact, Contract, Organisation
from opsdesk.tenancy.selectors import (
    contact_get,
    contact_list,
    contract_get,
    contract_list,
    organisation_get,
    organisation_list,
)
from opsdesk.tickets.forms import add_service_error
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import access_ticket, ticket_open_for_organisation

# Service error fields that are called differently on the form.
_FIELD_ALIASES = {"duration_seconds": "duration"}


def _org_by_code(code: str) -> Organisation | None:
    if not code:
        return None
    try:
        return organisation_get(code=code)
    except NotFound:
        return None


def _caller_panel(request: HttpRequest, values: dict[str, Any]) -> dict[str, Any]:
    """Everything the caller panel shows for the typed number and the agent's choices."""
    number = (values.get("number") or "").strip()
    panel: dict[str, Any] = {
        "number": number,
        "lookup_error": "",
        "match": None,
        "organisation": None,
        "contacts": [],
        "contracts": [],
        "open_tickets": [],
        "organisations": [],
        "selected_target": values.get("target") or NEW_TICKET,
        "selected_contact": str(values.get("contact") or ""),
        "selected_contract": str(values.get("contract") or ""),
        "selected_organisation": values.get("organisation") or "",
    }
    if not number:
        return panel
    try:
        match = caller_match(number=number, actor=request.user)
    except InvalidInput:
        panel["lookup_error"] = _("This is not a phone number.")
        return panel
    panel["match"] = match
    organisation = match.organisation
    if organisation is None:
        organisation = _org_by_code(panel["selected_organisation"])
        panel["organisations"] = list(organisation_list().filter(is_active=True)[:500])
    if organisation is not None:
        panel["organisation"] = organisation
        panel["contracts"] = list(contract_list(organisation=organisation).filter(is_active=True))
        if match.contact is None:
            panel["contacts"] = list(contact_list(organisation=organisation))
        if match.organisation is None:
            panel["open_tickets"] = ticket_open_for_organisation(
                actor=request.user, organisation_id=organisation.pk
            )
        else:
            panel["open_tickets"] = match.open_tickets
        if not panel["selected_contract"] and len(panel["contracts"]) == 1:
            panel["selected_contract"] = str(panel["contracts"][0].pk)
    return panel


@require_GET
@staff_required
def call_lookup(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/_caller.html", _caller_panel(request, request.GET.dict()))


def _resolve(
    request: HttpRequest, form: CallLogForm
) -> tuple[Ticket | None, Contact | None, Contract | None]:
    data = form.cleaned_data
    ticket = contact = contract = None
    try:
        if data["target"] != NEW_TICKET:
            ticket = access_ticket(actor=request.user, reference=data["target"])
    except NotFound:
        form.add_error("target", _("That ticket is not available; choose another."))
    try:
        if data.get("contact"):
            contact = contact_get(contact_id=data["contact"])
    except NotFound:
        form.add_error("contact", _("Choose the caller again."))
    try:
        if data.get("contract"):
            contract = contract_get(contract_id=data["contract"])
    except NotFound:
        form.add_error("contract", _("Choose the contract again."))
    return ticket, contact, contract


def _log(request: HttpRequest, form: CallLogForm) -> Ticket | None:
    ticket, contact, contract = _resolve(request, form)
    if form.errors:
        return None
    data = form.cleaned_data
    try:
        _call, logged = call_log(
            agent=request.user,  # type: ignore[arg-type]
            number=data["number"],
            notes=data["notes"],
            duration_seconds=data["duration"],
            ticket=ticket,
            new_ticket_subject=data["subject"] if ticket is None else "",
            contact=contact,
            contract=contract,
            kind=data["kind"],
            priority=data["priority"],
            severity=data["severity"],
            call_id=data.get("call"),
        )
    except InvalidInput as exc:
        exc.field = _FIELD_ALIASES.get(exc.field or "", exc.field)
        add_service_error(form, exc)
        return None
    return logged


@staff_required
def call_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CallLogForm(request.POST)
        if form.is_valid():
            ticket = _log(request, form)
            if ticket is not None:
                return redirect("tickets:detail", reference=ticket.reference)
        values: dict[str, Any] = request.POST.dict()
        status = 422 if not request.htmx else 200  # type: ignore[attr-defined]
    else:
        values = {"number": request.GET.get("number", ""), "call": request.GET.get("call")}
        form = CallLogForm(initial=values)
        status = 200
    panel = _caller_panel(request, values)
    context = {"nav": "call", "form": form, "errors": form.errors, **panel}
    return render(request, "intake/call_new.html", context, status=status)
