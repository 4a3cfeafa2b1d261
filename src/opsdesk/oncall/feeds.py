"""Signed calendar-feed links, for calendar apps that cannot sign in
(docs/subsystems/oncall.md#ical).

A link names its subscriber and what it shows (a schedule or a person's shifts) and carries
an HMAC over both, keyed with the site's SECRET_KEY and the subscriber's own FeedKey secret:
``/oncall/feeds/<subscriber id>/<signature>/schedule/<id>.ics``. Nobody can forge or alter one,
and rotating the subscriber's secret revokes all of their links at once. A link stops working
when its subscriber leaves the staff.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import NotFound, PermissionDenied
from opsdesk.oncall.models import FeedKey
from opsdesk.tenancy.selectors import staff_scope

FEED_SALT = "opsdesk.oncall.feed"
SCOPES = ("schedule", "person")


def _signature(user_id: int, secret: str, scope: str, object_id: int) -> str:
    value = f"{user_id}:{scope}:{object_id}:{secret}"
    return salted_hmac(FEED_SALT, value, algorithm="sha256").hexdigest()[:40]


def feed_key_get(*, user: User) -> FeedKey:
    """The person's feed secret, made on first use."""
    key, _created = FeedKey.objects.get_or_create(
        user=user, defaults={"secret": secrets.token_hex(32), "rotated_at": now()}
    )
    return key


def feed_key_rotate(*, user: User) -> FeedKey:
    """Revoke every feed link of ``user``; links made from now on use the new secret."""
    key = feed_key_get(user=user)
    key.secret = secrets.token_hex(32)
    key.rotated_at = now()
    key.save(update_fields=["secret", "rotated_at"])
    return key


def feed_url(*, user: User, scope: str, object_id: int) -> str:
    if scope not in SCOPES:
        raise ValueError(scope)
    key = feed_key_get(user=user)
    path = reverse(
        f"oncall:{scope}_feed_signed",
        args=[user.pk, _signature(user.pk, key.secret, scope, object_id), object_id],
    )
    return f"{settings.OPSDESK_BASE_URL.rstrip('/')}{path}"


def feed_access(*, user_id: int, signature: str, scope: str, object_id: int) -> User:
    """The subscriber of a valid link; NotFound for a forged, altered or revoked one."""
    key = FeedKey.objects.select_related("user").filter(user_id=user_id).first()
    invalid = NotFound(_("This calendar link is invalid or has been revoked."))
    if key is None or not constant_time_compare(
        signature, _signature(user_id, key.secret, scope, object_id)
    ):
        raise invalid
    try:
        staff_scope(user=key.user)
    except PermissionDenied:
        raise invalid from None
    return key.user
