"""Reads for customers and staff, and who may see what. See docs/subsystems/tenancy.md."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opsdesk.core.errors import NotFound, PermissionDenied
from opsdesk.tenancy.models import (
    Contact,
    Contract,
    Organisation,
    StaffProfile,
    Team,
)


@dataclass(frozen=True)
class StaffScope:
    """What a staff member may see: everything, or the tickets of their teams and their own."""

    user_id: int
    sees_everything: bool
    team_ids: frozenset[int]


def staff_scope(*, user: User | AnonymousUser) -> StaffScope:
    """The one gate for agent access. Raises PermissionDenied for anyone who is not staff
    (customer contacts, deactivated staff, anonymous visitors)."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Sign in as support-centre staff."))
    # Kept on the user object, which lives as long as one request: authentication and the
    # queue selector both ask, and the answer cannot change within the request.
    cached: StaffScope | None = user.__dict__.get("_opsdesk_staff_scope")
    if cached is not None:
        return cached
    scope = _staff_scope_load(user)
    user.__dict__["_opsdesk_staff_scope"] = scope
    return scope


def _staff_scope_load(user: User) -> StaffScope:
    try:
        profile = user.staff_profile
    except StaffProfile.DoesNotExist:
        profile = None
    if user.is_superuser:
        return StaffScope(user_id=user.pk, sees_everything=True, team_ids=frozenset())
    if profile is None or not profile.is_active:
        raise PermissionDenied(_("This account has no agent access."))
    team_ids = frozenset(user.memberships.values_list("team_id", flat=True))
    return StaffScope(user_id=user.pk, sees_everything=profile.sees_everything, team_ids=team_ids)


def is_staff_member(*, user: User | AnonymousUser) -> bool:
    try:
        staff_scope(user=user)
    except PermissionDenied:
        return False
    return True


def organisation_list(*, search: str = "") -> QuerySet[Organisation]:
    qs = Organisation.objects.all().order_by("name", "id")
    if search:
        qs = qs.filter(name__icontains=search) | qs.filter(code__icontains=search)
    return qs


def organisation_get(*, code: str, details: bool = True) -> Organisation:
    """By code; ``details`` also loads its mail domains and office phones."""
    qs = Organisation.objects.all()
    if details:
        qs = qs.prefetch_related("domains", "phones")
    try:
        return qs.get(code=code)
    except Organisation.DoesNotExist as exc:
        raise NotFound(_("No organisation %(code)r.") % {"code": code}) from exc


def contact_list(
    *, organisation: Organisation | None = None, search: str = ""
) -> QuerySet[Contact]:
    qs = Contact.objects.select_related("organisation").prefetch_related("emails", "phones")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.order_by("name", "id")


def contact_get(*, contact_id: int) -> Contact:
    try:
        return (
            Contact.objects.select_related("organisation")
            .prefetch_related("emails", "phones")
            .get(pk=contact_id)
        )
    except Contact.DoesNotExist as exc:
        raise NotFound(_("No contact %(id)s.") % {"id": contact_id}) from exc


def team_list() -> QuerySet[Team]:
    return Team.objects.prefetch_related("memberships__user__staff_profile").order_by("name")


def team_get(*, slug: str) -> Team:
    try:
        return Team.objects.get(slug=slug)
    except Team.DoesNotExist as exc:
        raise NotFound(_("No team %(slug)r.") % {"slug": slug}) from exc


def contract_list(*, organisation: Organisation) -> QuerySet[Contract]:
    return Contract.objects.filter(organisation=organisation).order_by("-is_active", "name", "id")


def staff_list() -> QuerySet[User]:
    """Active support-centre staff, for assignment pickers."""
    return (
        User.objects.filter(is_active=True, staff_profile__is_active=True)
        .select_related("staff_profile")
        .order_by("staff_profile__display_name", "id")
    )


def contract_get(*, contract_id: int) -> Contract:
    try:
        return Contract.objects.select_related("organisation").get(pk=contract_id)
    except Contract.DoesNotExist as exc:
        raise NotFound(_("No contract %(id)s.") % {"id": contract_id}) from exc


def staff_user_get(*, username: str) -> User:
    """An active staff member by username (for 'assignee' fields), or NotFound."""
    user = (
        User.objects.select_related("staff_profile")
        .filter(username=username, is_active=True)
        .first()
    )
    if user is None or not is_staff_member(user=user):
        raise NotFound(_("No staff member %(name)r.") % {"name": username})
    return user


def contract_get_by_code(*, code: str) -> Contract:
    try:
        return Contract.objects.select_related("organisation").get(code=code)
    except Contract.DoesNotExist as exc:
        raise NotFound(_("No contract %(code)r.") % {"code": code}) from exc
