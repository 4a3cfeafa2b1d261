"""Reads for customers and staff, and who may see what. See docs/subsystems/tenancy.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from opsdesk.core.errors import NotFound, PermissionDenied
from opsdesk.core.recent import RecentRows
from opsdesk.core.rows import RowReader
from opsdesk.tenancy.models import (
    Contact,
    Contract,
    Organisation,
    StaffProfile,
    Team,
    TeamMembership,
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
    profile = signed_in_profile(user)
    if user.is_superuser:
        return StaffScope(user_id=user.pk, sees_everything=True, team_ids=frozenset())
    if profile is None or not profile.is_active:
        raise PermissionDenied(_("This account has no agent access."))
    # getattr, not __dict__: request.user is a lazy wrapper around the user that has them.
    team_ids: frozenset[int] | None = getattr(user, _TEAM_IDS, None)
    if team_ids is None:
        # Every page asks; a plain statement costs a fraction of the queryset.
        sql = f"SELECT team_id FROM {TeamMembership._meta.db_table} WHERE user_id = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk])
            team_ids = frozenset(row[0] for row in cursor.fetchall())
    return StaffScope(user_id=user.pk, sees_everything=profile.sees_everything, team_ids=team_ids)


_PROFILE = RowReader((StaffProfile, "p"))


def signed_in_profile(user: User) -> StaffProfile | None:
    """The user's staff profile (None without one). For a page's signed-in user, whom Django
    loads alone, the profile and the team ids staff_scope needs come in one written-out
    statement instead of two queries."""
    if not User.staff_profile.related.is_cached(user):
        _staff_profile_and_teams_load(user)
    try:
        profile: StaffProfile = user.staff_profile
    except StaffProfile.DoesNotExist:
        return None
    return profile


def _staff_profile_and_teams_load(user: User) -> None:
    sql = (
        f"SELECT {_PROFILE.columns()}, {team_ids_column_sql('u')} "  # noqa: S608 - names from models
        f"FROM {User._meta.db_table} u {staff_profile_join_sql()} WHERE u.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        row = cursor.fetchone()
    (profile,) = _PROFILE.instances(row[:-1]) if row is not None else (None,)
    real = user._wrapped if hasattr(user, "_wrapped") else user  # a lazy request.user
    _profile_attach(real, profile)
    team_ids_preload(real, row[-1] if row is not None else None)


_TEAM_IDS = "_opsdesk_team_ids"


def team_ids_column_sql(user_alias: str) -> str:
    """A column with the team ids of user ``user_alias`` as comma-separated text (NULL for
    none), for a query that reads the user anyway: the API's token look-up brings them along
    instead of staff_scope asking once more on every request."""
    table = TeamMembership._meta.db_table
    if connection.vendor == "postgresql":
        agg = "string_agg(tm.team_id::text, ',')"
    else:
        agg = "group_concat(tm.team_id)"
    return f"(SELECT {agg} FROM {table} tm WHERE tm.user_id = {user_alias}.id)"  # noqa: S608 - names from the model


def team_ids_preload(user: User, column: object) -> None:
    """Keep what :func:`team_ids_column_sql` read on the user object (one request's life)."""
    text = str(column) if column else ""
    user.__dict__[_TEAM_IDS] = frozenset(int(n) for n in text.split(",") if n)


# A user with their staff profile: read on every API request (token auth) and for every
# round-robin pick, so written out (core.rows) rather than built by the ORM each time.
STAFF_USER = RowReader((User, "u"), (StaffProfile, "p"))


def staff_profile_join_sql() -> str:
    """The join of ``u`` (a user already in the query) to ``p``, their staff profile if any."""
    return f"LEFT JOIN {StaffProfile._meta.db_table} p ON p.user_id = u.id"


def staff_user_from_row(row: Sequence[object], start: int = 0) -> User:
    """The user of a row holding ``STAFF_USER.columns()`` from ``start`` on, with the
    profile attached as ``user.staff_profile`` (no further query; a user without a profile
    raises ``StaffProfile.DoesNotExist`` there, as after ``select_related``)."""
    return _staff_user(STAFF_USER.instances(row[start:]))


def _staff_user(parts: list[Model | None]) -> User:
    user, profile = parts
    assert isinstance(user, User)  # noqa: S101 - an inner-joined user is never NULL
    _profile_attach(user, profile)
    return user


def _profile_attach(user: User, profile: Model | None) -> None:
    """``user.staff_profile`` as ``select_related`` leaves it: the profile, or
    ``StaffProfile.DoesNotExist`` on access for a user without one; no query either way."""
    User.staff_profile.related.set_cached_value(user, profile)
    if profile is not None:
        StaffProfile.user.field.set_cached_value(profile, user)


def _staff_users_sql(where: str) -> str:
    return (
        f"SELECT {STAFF_USER.columns()} FROM {User._meta.db_table} u "  # noqa: S608 - names from models
        f"{staff_profile_join_sql()} WHERE {where}"
    )


def staff_user_by_id(*, user_id: int) -> User | None:
    """The user with their staff profile, in one query, or None."""
    found = STAFF_USER.fetch_one(_staff_users_sql("u.id = %s"), [user_id])
    return _staff_user(found) if found is not None else None


def staff_users_active(*, user_ids: list[int]) -> dict[int, User]:
    """The active ones of ``user_ids`` with their staff profiles, by id, in one query (who is
    on call is asked for every ticket opened after hours)."""
    if not user_ids:
        return {}
    marks = ", ".join(["%s"] * len(user_ids))
    rows = STAFF_USER.fetch_all(_staff_users_sql(f"u.id IN ({marks}) AND u.is_active"), user_ids)
    users = [_staff_user(parts) for parts in rows]
    return {user.pk: user for user in users}


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


_ORGANISATION = RowReader((Organisation, "o"))
# An organisation's row by code, kept for the configuration interval (core.recent): an
# integration or script opening tickets in a burst reads it once. Deactivating or renaming
# it is seen by this process at once and by the others within that interval.
_RECENT_ORGANISATIONS = RecentRows("organisation", Organisation)


def organisation_get(*, code: str, details: bool = True) -> Organisation:
    """By code; ``details`` also loads its mail domains and office phones. Without them (the
    API's ticket create, on every call) one written-out statement (core.rows), or none when
    this process read it within the configuration interval."""
    if details:
        qs = Organisation.objects.prefetch_related("domains", "phones")
        found = qs.filter(code=code).first()
    else:
        sql = f"SELECT {_ORGANISATION.columns()} FROM {Organisation._meta.db_table} o "  # noqa: S608
        row = _RECENT_ORGANISATIONS.get(
            code,
            lambda: _ORGANISATION.fetch_row(sql + "WHERE o.code = %s", [code]),
            alias=connection.alias,
        )
        found = _ORGANISATION.instances(row)[0] if row is not None else None  # type: ignore[assignment]
    if found is None:
        raise NotFound(_("No organisation %(code)r.") % {"code": code})
    return found


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
