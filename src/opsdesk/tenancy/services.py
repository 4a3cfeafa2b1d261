"""Writes for customers and staff. See docs/subsystems/tenancy.md."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.core.errors import InvalidInput
from opsdesk.core.phones import normalize_phone
from opsdesk.tenancy.enums import Cloud, Language, MemberRole, ServiceLine, StaffRole, SupportHours
from opsdesk.tenancy.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Contract,
    Organisation,
    OrganisationDomain,
    OrganisationPhone,
    StaffProfile,
    Team,
    TeamMembership,
)


def _check_choices(values: Iterable[str], allowed: Sequence[str], field: str) -> list[str]:
    result = list(dict.fromkeys(values))
    unknown = [v for v in result if v not in allowed]
    if unknown:
        raise InvalidInput(
            _("Unknown %(field)s: %(values)s. Allowed: %(allowed)s.")
            % {"field": field, "values": ", ".join(unknown), "allowed": ", ".join(allowed)},
            field=field,
        )
    return result


_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _check_text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    """Trimmed text within the column's length, without NUL (PostgreSQL rejects it)."""
    text = value.strip()
    if required and not text:
        raise InvalidInput(_("%(field)s is required.") % {"field": field}, field=field)
    if len(text) > max_length or "\x00" in text:
        raise InvalidInput(
            _("%(field)s must be at most %(max)d characters of text.")
            % {"field": field, "max": max_length},
            field=field,
        )
    return text


def _check_code(code: str) -> str:
    code = _check_text(code, "code", 40)
    if not _CODE.match(code):
        raise InvalidInput(
            _("A code uses lower-case letters, digits, '-' and '_' only."), field="code"
        )
    return code


@transaction.atomic
def organisation_create(
    *,
    code: str,
    name: str,
    language: str = Language.KO,
    domains: Sequence[str] = (),
    phones: Sequence[str] = (),
    notes: str = "",
) -> Organisation:
    code = _check_code(code)
    name = _check_text(name, "name", 200)
    if Organisation.objects.filter(code=code).exists():
        raise InvalidInput(
            _("An organisation with code %(code)r exists already.") % {"code": code}, field="code"
        )
    _check_choices([language], Language.values, "language")
    organisation = Organisation.objects.create(code=code, name=name, language=language, notes=notes)
    for domain in domains:
        domain = domain.strip().lower()
        if OrganisationDomain.objects.filter(domain=domain).exists():
            raise InvalidInput(
                _("The domain %(domain)s belongs to another organisation.") % {"domain": domain},
                field="domains",
            )
        OrganisationDomain.objects.create(organisation=organisation, domain=domain)
    for raw in phones:
        OrganisationPhone.objects.create(organisation=organisation, number=normalize_phone(raw))
    return organisation


@transaction.atomic
def contact_create(
    *,
    organisation: Organisation | None,
    name: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    title: str = "",
    language: str = "",
) -> Contact:
    name = _check_text(name, "name", 200)
    title = _check_text(title, "title", 100, required=False)
    if language:
        _check_choices([language], Language.values, "language")
    contact = Contact.objects.create(
        organisation=organisation, name=name.strip(), title=title, language=language
    )
    for index, address in enumerate(emails):
        address = address.strip().lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise InvalidInput(
                _("Not an email address: %(address)r.") % {"address": address}, field="emails"
            ) from exc
        if ContactEmail.objects.filter(address=address).exists():
            raise InvalidInput(
                _("The address %(address)s belongs to another contact.") % {"address": address},
                field="emails",
            )
        ContactEmail.objects.create(contact=contact, address=address, is_primary=index == 0)
    for index, raw in enumerate(phones):
        ContactPhone.objects.create(
            contact=contact, number=normalize_phone(raw), is_primary=index == 0
        )
    return contact


def contract_create(
    *,
    organisation: Organisation,
    code: str,
    name: str,
    service_lines: Sequence[str],
    support_hours: str = SupportHours.BUSINESS,
    clouds: Sequence[str] = (),
) -> Contract:
    code = _check_code(code)
    name = _check_text(name, "name", 200)
    lines = _check_choices(service_lines, ServiceLine.values, "service_lines")
    if not lines:
        raise InvalidInput(_("A contract covers at least one service line."), field="service_lines")
    _check_choices([support_hours], SupportHours.values, "support_hours")
    return Contract.objects.create(
        organisation=organisation,
        code=code,
        name=name,
        service_lines=lines,
        support_hours=support_hours,
        clouds=_check_choices(clouds, Cloud.values, "clouds"),
    )


@transaction.atomic
def staff_create(
    *,
    username: str,
    display_name: str,
    password: str | None = None,
    email: str = "",
    role: str = StaffRole.STAFF,
    phone: str = "",
    language: str = Language.KO,
) -> User:
    if User.objects.filter(username=username).exists():
        raise InvalidInput(
            _("The username %(username)r is taken.") % {"username": username}, field="username"
        )
    _check_choices([role], StaffRole.values, "role")
    user = User.objects.create_user(
        username=username, email=email, password=password, is_staff=role == StaffRole.ADMIN
    )
    if role == StaffRole.ADMIN:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    StaffProfile.objects.create(
        user=user,
        display_name=display_name,
        role=role,
        phone=normalize_phone(phone) if phone else "",
        language=language,
    )
    return user


def team_member_add(*, team: Team, user: User, role: str = MemberRole.AGENT) -> TeamMembership:
    _check_choices([role], MemberRole.values, "role")
    membership, _created = TeamMembership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    return membership


def staff_availability_set(*, user: User, is_available: bool) -> None:
    StaffProfile.objects.filter(user=user).update(is_available=is_available)
