"""Views (agent UI) for queues and tickets: validate, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from opsdesk.core.errors import InvalidInput, NotFound
from opsdesk.intake.email.services import ticket_email_reply_send
from opsdesk.sla.selectors import ticket_clocks
from opsdesk.tenancy.decorators import staff_required
from opsdesk.tenancy.models import Organisation
from opsdesk.tenancy.selectors import organisation_get
from opsdesk.tickets import services
from opsdesk.tickets.forms import (
    AssignForm,
    FieldsForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    StatusForm,
    TicketCreateForm,
    add_service_error,
)
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.panels import panels_for
from opsdesk.tickets.selectors import (
    QUEUES,
    TicketFilters,
    access_ticket,
    attachment_get,
    ticket_queue,
    ticket_timeline,
)

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    try:
        return access_ticket(actor=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("queue") or "open"
    if name not in QUEUES:
        name = "open"
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = TicketFilters(
        status=data.get("status", ""),
        kind=data.get("kind", ""),
        priority=data.get("priority", ""),
        channel=data.get("channel", ""),
        search=data.get("q", ""),
        sla=data.get("sla", ""),
    )
    order = data.get("sort") or "new"
    error = ""
    try:
        page = ticket_queue(
            actor=request.user,
            queue=name,
            filters=filters,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
            order=order,
        )
    except InvalidInput as exc:
        error = exc.message
        page = ticket_queue(
            actor=request.user, queue=name, filters=TicketFilters(), limit=PAGE_SIZE
        )
    context = {
        "nav": "queues",
        "queue": name,
        "queues": QUEUES,
        "form": form,
        "page": page,
        "error": error,
    }
    return render(request, "tickets/queue.html", context)


_METRIC_LABELS = {
    "first_response": _("First response"),
    "recovery": _("Recovery"),
    "resolution": _("Resolution"),
}
_STATE_LABELS = {
    "running": _("On track"),
    "warning": _("Due soon"),
    "breached": _("Overdue"),
    "paused": _("Paused"),
    "met": _("Met"),
}


def _clock_rows(ticket: Ticket) -> list[dict[str, Any]]:
    return [
        {
            "label": _METRIC_LABELS.get(metric, metric),
            "state": c.state,
            "state_label": _STATE_LABELS.get(c.state, c.state),
            "due_at": c.due_at,
            "remaining_minutes": c.remaining_minutes,
        }
        for metric, c in ticket_clocks(ticket=ticket).items()
    ]


def _main_context(ticket: Ticket, actor: User | AnonymousUser, **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "ticket": ticket,
        "clocks": _clock_rows(ticket),
        "panels": panels_for(ticket=ticket, actor=actor),
        "events": ticket_timeline(ticket=ticket),
        "reply_form": ReplyForm(prefix="reply"),
        "note_form": NoteForm(prefix="note"),
        "assign_form": AssignForm(
            prefix="assign", initial={"assignee": ticket.assignee_id, "team": None}
        ),
        "status_form": StatusForm(prefix="status", ticket=ticket),
        "fields_form": FieldsForm(
            prefix="fields", initial={"priority": ticket.priority, "severity": ticket.severity}
        ),
    }
    context.update(overrides)
    return context


@staff_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    return render(
        request, "tickets/detail.html", {"nav": "queues", **_main_context(ticket, request.user)}
    )


def _after_action(
    request: HttpRequest, ticket: Ticket, form_name: str, form: forms.Form, ok: bool
) -> HttpResponse:
    """htmx: re-render the ticket's header, actions and timeline; plain POST: redirect on
    success, or the whole page with the errors."""
    if ok and not request.htmx:  # type: ignore[attr-defined]
        return redirect("tickets:detail", reference=ticket.reference)
    fresh = access_ticket(actor=request.user, reference=ticket.reference)
    context = (
        _main_context(fresh, request.user)
        if ok
        else _main_context(fresh, request.user, **{form_name: form})
    )
    template = "tickets/_main.html" if request.htmx else "tickets/detail.html"  # type: ignore[attr-defined]
    status = 200 if ok else 422
    response = render(request, template, {"nav": "queues", **context}, status=status)
    if request.htmx and not ok:  # type: ignore[attr-defined]
        # htmx does not swap error responses unless told to.
        response["HX-Reswap"] = "outerHTML"
        response.status_code = 200
    return response


def _act(
    request: HttpRequest,
    ticket: Ticket,
    form: forms.Form,
    form_name: str,
    action: Callable[[dict[str, Any]], object],
) -> HttpResponse:
    """The shape of every ticket action: validate the form, call one service, show its
    InvalidInput next to the field, re-render (htmx) or redirect."""
    ok = False
    if form.is_valid():
        try:
            action(form.cleaned_data)
            ok = True
        except InvalidInput as exc:
            add_service_error(form, exc)
    return _after_action(request, ticket, form_name, form, ok)


def _uploads(data: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    return [
        (upload.name, upload.content_type or "application/octet-stream", upload.read())
        for upload in data["attachments"]
    ]


@require_POST
@staff_required
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = ReplyForm(request.POST, request.FILES, prefix="reply")
    return _act(
        request,
        ticket,
        form,
        "reply_form",
        lambda data: ticket_email_reply_send(
            ticket=ticket, actor=_user(request), body=data["body"], files=_uploads(data)
        ),
    )


@require_POST
@staff_required
def ticket_note(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = NoteForm(request.POST, prefix="note")
    return _act(
        request,
        ticket,
        form,
        "note_form",
        lambda data: services.ticket_note_add(
            ticket=ticket, actor=_user(request), body=data["body"]
        ),
    )


@require_POST
@staff_required
def ticket_assign_view(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = AssignForm(request.POST, prefix="assign")
    me = "assign_to_me" in request.POST
    return _act(
        request,
        ticket,
        form,
        "assign_form",
        lambda data: services.ticket_assign(
            ticket=ticket,
            actor=_user(request),
            assignee=_user(request) if me else data["assignee"],
            team=data["team"],
        ),
    )


@require_POST
@staff_required
def ticket_status(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = StatusForm(request.POST, prefix="status", ticket=ticket)
    return _act(
        request,
        ticket,
        form,
        "status_form",
        lambda data: services.ticket_status_change(
            ticket=ticket, actor=_user(request), status=data["status"], comment=data["comment"]
        ),
    )


@require_POST
@staff_required
def ticket_fields(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = FieldsForm(request.POST, prefix="fields")
    return _act(
        request,
        ticket,
        form,
        "fields_form",
        lambda data: services.ticket_update(ticket=ticket, actor=_user(request), changes=data),
    )


def _organisation_from(request: HttpRequest) -> Organisation | None:
    code = request.POST.get("organisation") or request.GET.get("organisation")
    if not code:
        return None
    try:
        return organisation_get(code=code)
    except NotFound:
        return None


@staff_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    organisation = _organisation_from(request)
    if request.method == "POST":
        form = TicketCreateForm(request.POST, organisation=organisation)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(actor=_user(request), **data)
            except InvalidInput as exc:
                add_service_error(form, exc)
            else:
                return redirect("tickets:detail", reference=ticket.reference)
    else:
        # A GET with values (the organisation picker reloading the form) keeps them.
        initial = {k: v for k, v in request.GET.items() if k in TicketCreateForm.base_fields}
        form = TicketCreateForm(initial=initial, organisation=organisation)
    return render(request, "tickets/new.html", {"nav": "new", "form": form})


@staff_required
def attachment_download(
    request: HttpRequest, reference: str, attachment_id: int, filename: str = ""
) -> FileResponse:
    """Files are served only after the ticket's access check; always as a download with
    nosniff, so an uploaded HTML or SVG file cannot run in the agent's session."""
    try:
        attachment = attachment_get(
            actor=request.user, reference=reference, attachment_id=attachment_id
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
