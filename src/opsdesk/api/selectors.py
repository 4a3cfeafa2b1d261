"""Token look-up for API authentication."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet

from opsdesk.api.models import ApiToken
from opsdesk.api.services import token_hash
from opsdesk.core.clock import now
from opsdesk.core.recent import RecentRows
from opsdesk.core.rows import RowReader
from opsdesk.tenancy.models import StaffProfile, TeamMembership
from opsdesk.tenancy.selectors import (
    STAFF_USER,
    staff_profile_join_sql,
    staff_user_from_row,
    team_ids_column_sql,
    team_ids_preload,
)

# Touching last_used_at on every request would turn every read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


# Every API request runs this read, so it is written out (core.rows), not built by the ORM.
_TOKEN = RowReader((ApiToken, "t"))


def _token_sql() -> str:
    return (
        f"SELECT {_TOKEN.columns()}, {STAFF_USER.columns()}, {team_ids_column_sql('u')} "  # noqa: S608 - names from models
        f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        f"{staff_profile_join_sql()} "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )


# The token's row, with its user, profile and team ids, as read by _token_sql(): kept for
# the configuration interval (core.recent), so a client's requests in a burst read it once.
# Revoking a token, deactivating a user or moving them between teams is seen by this process
# at once and by the others within that interval.
_RECENT_TOKENS = RecentRows("api-token", ApiToken, User, StaffProfile, TeamMembership)


def _token_row(key_hash: str) -> tuple[object, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [key_hash])
        row: tuple[object, ...] | None = cursor.fetchone()
    return row


def api_token_user(*, raw: str) -> User | None:
    """The active user of an unrevoked token, with their staff profile; at most one query
    (none when this process read the token within the configuration interval), and an
    UPDATE of ``last_used_at`` at most every few minutes."""
    key_hash = token_hash(raw)
    row = _RECENT_TOKENS.get(key_hash, lambda: _token_row(key_hash), alias=connection.alias)
    if row is None:
        return None
    (token,) = _TOKEN.instances(row)
    assert isinstance(token, ApiToken)  # noqa: S101 - matched on its key, so never NULL
    moment = now()
    if token.last_used_at is None or moment - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        _RECENT_TOKENS.forget(key_hash, alias=connection.alias)  # the kept row is stale now
    user = staff_user_from_row(row[:-1], start=len(ApiToken._meta.concrete_fields))
    team_ids_preload(user, row[-1])  # staff_scope needs no query of its own
    return user


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
