"""Organisations, contacts and teams API (/api/v1/organisations, /contacts, /teams).
Thin handlers over tenancy.selectors and tenancy.services."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from opsdesk.api.lookups import resolve
from opsdesk.api.pagination import IdPage, paginate_by_id
from opsdesk.api.types import MAX_DB_INT, is_clean_text
from opsdesk.core.errors import NotFound
from opsdesk.tenancy.models import Contact, Organisation, Team
from opsdesk.tenancy.schemas import (
    ContactCreateIn,
    ContactListQuery,
    ContactOut,
    ContactPageOut,
    ListQuery,
    OrganisationCreateIn,
    OrganisationDetailOut,
    OrganisationPageOut,
    TeamOut,
)
from opsdesk.tenancy.selectors import (
    contact_get,
    contact_list,
    organisation_get,
    organisation_list,
    team_get,
    team_list,
)
from opsdesk.tenancy.services import contact_create, organisation_create

organisations_router = Router(tags=["organisations"])
contacts_router = Router(tags=["contacts"])
teams_router = Router(tags=["teams"])


def _path_key(value: str, what: str) -> str:
    if not is_clean_text(value, max_length=40):
        raise NotFound(_("No such %(what)s.") % {"what": what})
    return value


@organisations_router.get("", response=OrganisationPageOut, url_name="organisation_list")
def organisation_list_api(request: HttpRequest, params: Query[ListQuery]) -> IdPage[Organisation]:
    return paginate_by_id(
        organisation_list(search=params.search), cursor=params.cursor, limit=params.limit
    )


@organisations_router.get("/{code}", response=OrganisationDetailOut, url_name="organisation_detail")
def organisation_detail_api(request: HttpRequest, code: str) -> Organisation:
    return organisation_get(code=_path_key(code, "organisation"))


@organisations_router.post(
    "", response={201: OrganisationDetailOut}, url_name="organisation_create"
)
def organisation_create_api(
    request: HttpRequest, payload: OrganisationCreateIn
) -> tuple[int, Organisation]:
    organisation = organisation_create(
        code=payload.code,
        name=payload.name,
        language=payload.language,
        domains=payload.domains,
        phones=payload.phones,
        notes=payload.notes,
    )
    return 201, organisation_get(code=organisation.code)


@contacts_router.get("", response=ContactPageOut, url_name="contact_list")
def contact_list_api(request: HttpRequest, params: Query[ContactListQuery]) -> IdPage[Contact]:
    code = params.organisation
    organisation = resolve("organisation", lambda: organisation_get(code=code)) if code else None
    return paginate_by_id(
        contact_list(organisation=organisation, search=params.search),
        cursor=params.cursor,
        limit=params.limit,
    )


@contacts_router.get("/{contact_id}", response=ContactOut, url_name="contact_detail")
def contact_detail_api(request: HttpRequest, contact_id: int) -> Contact:
    if not 0 < contact_id <= MAX_DB_INT:
        raise NotFound(_("No contact %(id)s.") % {"id": contact_id})
    return contact_get(contact_id=contact_id)


@contacts_router.post("", response={201: ContactOut}, url_name="contact_create")
def contact_create_api(request: HttpRequest, payload: ContactCreateIn) -> tuple[int, Contact]:
    code = payload.organisation
    organisation = resolve("organisation", lambda: organisation_get(code=code)) if code else None
    contact = contact_create(
        organisation=organisation,
        name=payload.name,
        emails=payload.emails,
        phones=payload.phones,
        title=payload.title,
        language=payload.language,
    )
    return 201, contact_get(contact_id=contact.pk)


@teams_router.get("", response=list[TeamOut], url_name="team_list")
def team_list_api(request: HttpRequest) -> list[Team]:
    return list(team_list())


@teams_router.get("/{slug}", response=TeamOut, url_name="team_detail")
def team_detail_api(request: HttpRequest, slug: str) -> Team:
    return team_get(slug=_path_key(slug, "team"))
