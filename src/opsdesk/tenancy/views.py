"""Views (agent UI) for organisations, contacts and the staff member's own API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from opsdesk.api.selectors import api_token_list
from opsdesk.api.services import api_token_create, api_token_revoke
from opsdesk.core.errors import InvalidInput, NotFound
from opsdesk.tenancy.decorators import staff_required
from opsdesk.tenancy.forms import OrganisationSearchForm, TokenCreateForm, TokenRevokeForm
from opsdesk.tenancy.selectors import (
    contact_get,
    contact_list,
    contract_list,
    organisation_get,
    organisation_list,
)
from opsdesk.tickets.forms import add_service_error
from opsdesk.tickets.selectors import TicketFilters, ticket_queue

PAGE_SIZE = 50
ORG_PAGE_SIZE = 100


def _history(request: HttpRequest, filters: TicketFilters) -> dict[str, Any]:
    """A ticket history page through the visibility rules, with the next-page cursor."""
    cursor = request.GET.get("cursor") or None
    try:
        page = ticket_queue(
            actor=request.user, queue="all", filters=filters, cursor=cursor, limit=PAGE_SIZE
        )
    except InvalidInput:
        page = ticket_queue(actor=request.user, queue="all", filters=filters, limit=PAGE_SIZE)
    next_url = f"{request.path}?cursor={page.next_cursor}" if page.next_cursor else ""
    return {"page": page, "next_url": next_url}


@staff_required
def organisation_list_view(request: HttpRequest) -> HttpResponse:
    form = OrganisationSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    organisations = list(organisation_list(search=search)[:ORG_PAGE_SIZE])
    context = {"nav": "orgs", "form": form, "organisations": organisations}
    return render(request, "tenancy/organisation_list.html", context)


@staff_required
def organisation_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        organisation = organisation_get(code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {
        "nav": "orgs",
        "organisation": organisation,
        "contracts": list(contract_list(organisation=organisation)),
        "contacts": list(contact_list(organisation=organisation)),
        **_history(request, TicketFilters(organisation_id=organisation.pk)),
    }
    return render(request, "tenancy/organisation_detail.html", context)


@staff_required
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        contact = contact_get(contact_id=contact_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {
        "nav": "orgs",
        "contact": contact,
        **_history(request, TicketFilters(contact_id=contact.pk)),
    }
    return render(request, "tenancy/contact_detail.html", context)


@staff_required
def token_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    create_form = TokenCreateForm(prefix="new")
    secret = ""
    created_name = ""
    if request.method == "POST" and "revoke" in request.POST:
        revoke_form = TokenRevokeForm(request.POST)
        if revoke_form.is_valid():
            try:
                api_token_revoke(user=user, token_id=revoke_form.cleaned_data["token_id"])
            except NotFound as exc:
                raise Http404(exc.message) from exc
    elif request.method == "POST":
        create_form = TokenCreateForm(request.POST, prefix="new")
        if create_form.is_valid():
            try:
                token, secret = api_token_create(user=user, name=create_form.cleaned_data["name"])
            except InvalidInput as exc:
                add_service_error(create_form, exc)
            else:
                created_name = token.name
                create_form = TokenCreateForm(prefix="new")
    context = {
        "nav": "tokens",
        "tokens": list(api_token_list(user=user)),
        "create_form": create_form,
        "secret": secret,
        "created_name": created_name,
    }
    response = render(request, "tenancy/token_list.html", context)
    # The secret is on this page once; keep it out of caches.
    response["Cache-Control"] = "no-store"
    return response
