"""API tokens: created, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from opsdesk.api.models import ApiToken
from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput, NotFound
from opsdesk.tenancy.selectors import is_staff_member

TOKEN_PREFIX = "odk_"  # noqa: S105 - a public marker, not a secret


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the secret, which is never shown again."""
    if not is_staff_member(user=user):
        raise InvalidInput(_("API tokens are for support-centre staff only."), field="user")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "api",
        prefix=raw[:12],
        key_hash=token_hash(raw),
        created_at=now(),
    )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound(_("No such active token."))
    token.revoked_at = now()
    token.save(update_fields=["revoked_at"])
    return token
