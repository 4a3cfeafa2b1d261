"""AWS SNS subscriptions of CloudWatch integrations: confirm, record, note the end.

See docs/subsystems/alerts.md ("CloudWatch (AWS SNS)")."""

from __future__ import annotations

from django.utils.translation import gettext as _

from opsdesk.alerts.enums import SubscriptionStatus
from opsdesk.alerts.models import Integration, SnsSubscription
from opsdesk.alerts.sources import sns
from opsdesk.alerts.sources.base import SubscriptionRequest
from opsdesk.core.clock import now
from opsdesk.core.errors import OpsDeskError


class SubscriptionUnconfirmed(OpsDeskError):
    """SNS could not be reached to confirm: answered 503 so SNS sends the confirmation
    again (its delivery retries)."""

    status_code = 503


def sns_subscription_record(
    *, integration: Integration, request: SubscriptionRequest
) -> SnsSubscription:
    """Record an SNS SubscriptionConfirmation and confirm it by visiting its SubscribeURL
    (already checked to be SNS's, in the topic's region) when the message's signature was
    verified; or note an UnsubscribeConfirmation. Not one transaction: each attempt is kept,
    and the network call holds no database lock. Raises SubscriptionUnconfirmed when SNS
    could not be reached."""
    if request.kind == "unsubscribe":
        return _unsubscribed(integration=integration, request=request)
    at = now()
    subscription = (
        SnsSubscription.objects.filter(
            integration=integration,
            topic_arn=request.topic_arn,
            subscribe_url=request.subscribe_url,
        )
        .order_by("-id")
        .first()
    )
    if subscription is None:
        subscription = SnsSubscription.objects.create(
            integration=integration,
            topic_arn=request.topic_arn,
            subscribe_url=request.subscribe_url,
            received_at=at,
        )
    if subscription.status == SubscriptionStatus.CONFIRMED:
        return subscription  # SNS sent it again; nothing to do
    if not request.verified:
        subscription.last_error = _(
            "Signature checks are off for this integration, so OpsDesk did not confirm: "
            "open the subscribe URL to confirm by hand."
        )
        subscription.save(update_fields=["last_error"])
        return subscription
    subscription.attempts += 1
    try:
        arn = sns.subscription_confirm(request.subscribe_url)
    except sns.ConfirmError as exc:
        subscription.status, subscription.last_error = SubscriptionStatus.FAILED, str(exc)
        subscription.save(update_fields=["status", "last_error", "attempts"])
        message = _("Could not confirm the SNS subscription; retry later.")
        raise SubscriptionUnconfirmed(message) from exc
    subscription.status, subscription.subscription_arn = SubscriptionStatus.CONFIRMED, arn
    subscription.confirmed_at, subscription.last_error = now(), ""
    subscription.save(
        update_fields=["status", "subscription_arn", "confirmed_at", "last_error", "attempts"]
    )
    return subscription


def _unsubscribed(*, integration: Integration, request: SubscriptionRequest) -> SnsSubscription:
    at = now()
    subscription = (
        SnsSubscription.objects.filter(integration=integration, topic_arn=request.topic_arn)
        .exclude(status=SubscriptionStatus.UNSUBSCRIBED)
        .order_by("-id")
        .first()
    )
    if subscription is None:
        return SnsSubscription.objects.create(
            integration=integration,
            topic_arn=request.topic_arn,
            subscribe_url=request.subscribe_url,
            status=SubscriptionStatus.UNSUBSCRIBED,
            received_at=at,
            unsubscribed_at=at,
        )
    subscription.status, subscription.unsubscribed_at = SubscriptionStatus.UNSUBSCRIBED, at
    subscription.save(update_fields=["status", "unsubscribed_at"])
    return subscription
