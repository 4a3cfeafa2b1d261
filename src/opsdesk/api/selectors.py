"""Token look-up for API authentication."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import QuerySet

from opsdesk.api.models import ApiToken
from opsdesk.api.services import token_hash
from opsdesk.core.clock import now

# Touching last_used_at on every request would turn every read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


def api_token_user(*, raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__staff_profile")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    moment = now()
    if token.last_used_at is None or moment - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    return token.user


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
