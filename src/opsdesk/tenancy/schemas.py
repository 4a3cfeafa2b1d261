"""Input and output shapes of the organisations, contacts and teams API. Contact email
addresses and phone numbers (personal data) appear only in the contact shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from opsdesk.api.types import Code, Cursor, Limit, LongText, Name, PhoneText, SearchText, ShortText
from opsdesk.core.people import display_name
from opsdesk.core.phones import try_normalize_phone
from opsdesk.tenancy.enums import Language, MemberRole, SupportHours, TeamKind
from opsdesk.tenancy.models import Contact, Organisation, Team


def _phone(value: str) -> str:
    if try_normalize_phone(value) is None:
        raise ValueError("Not a phone number.")
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError("Not an email address.") from exc
    return value


Phone = Annotated[PhoneText, AfterValidator(_phone)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Domain = Annotated[
    str,
    StringConstraints(
        max_length=253,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
    ),
]


class OrganisationRef(Schema):
    code: str
    name: str


class OrganisationOut(Schema):
    code: str
    name: str
    language: Language
    is_active: bool
    created_at: datetime


class OrganisationPhoneOut(Schema):
    number: str
    label: str


class ContractOut(Schema):
    code: str
    name: str
    service_lines: list[str]
    support_hours: SupportHours
    clouds: list[str]
    starts_on: date | None
    ends_on: date | None
    is_active: bool


class OrganisationDetailOut(OrganisationOut):
    timezone: str
    notes: str
    domains: list[str]
    phones: list[OrganisationPhoneOut]
    contracts: list[ContractOut]

    @staticmethod
    def resolve_domains(obj: Organisation) -> list[str]:
        return [d.domain for d in obj.domains.all()]

    @staticmethod
    def resolve_contracts(obj: Organisation) -> list[object]:
        return list(obj.contracts.order_by("code"))


class OrganisationPageOut(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None


class OrganisationCreateIn(Schema):
    code: Code
    name: Name
    language: Language = Language.KO
    domains: list[Domain] = Field(default_factory=list, max_length=50)
    phones: list[Phone] = Field(default_factory=list, max_length=50)
    notes: LongText = ""


class ListQuery(Schema):
    search: SearchText = ""
    limit: Limit = 50
    cursor: Cursor | None = None


class ContactListQuery(ListQuery):
    organisation: Code | None = Field(None, description="Organisation code.")


class ContactPhoneOut(Schema):
    number: str
    label: str
    is_primary: bool


class ContactEmailOut(Schema):
    address: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    name: str
    title: str
    language: Language | Literal[""]
    is_active: bool
    organisation: OrganisationRef | None
    emails: list[ContactEmailOut]
    phones: list[ContactPhoneOut]
    created_at: datetime

    @staticmethod
    def resolve_emails(obj: Contact) -> list[object]:
        return list(obj.emails.all())

    @staticmethod
    def resolve_phones(obj: Contact) -> list[object]:
        return list(obj.phones.all())


class ContactPageOut(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactCreateIn(Schema):
    name: Name
    organisation: Code | None = Field(None, description="Organisation code.")
    emails: list[Email] = Field(default_factory=list, max_length=20)
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    title: ShortText = ""
    language: Language | Literal[""] = ""


class TeamMemberOut(Schema):
    username: str
    display_name: str
    role: MemberRole


class TeamOut(Schema):
    slug: str
    name: str
    name_en: str
    kind: TeamKind
    description: str
    email: str
    members: list[TeamMemberOut]

    @staticmethod
    def resolve_members(obj: Team) -> list[dict[str, str]]:
        members = []
        for membership in obj.memberships.all():
            user = membership.user
            members.append(
                {
                    "username": user.get_username(),
                    "display_name": display_name(user),
                    "role": membership.role,
                }
            )
        return members
