"""One webhook call: authenticate, parse, dead-letter what cannot be taken, ingest.

See docs/subsystems/alerts.md ("The webhook")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils.translation import gettext as _

from opsdesk.alerts.enums import (
    DeadLetterReason,
)
from opsdesk.alerts.models import (
    DeadLetter,
    Integration,
)
from opsdesk.alerts.selectors import integration_for_token
from opsdesk.alerts.services.batch import IngestResult
from opsdesk.alerts.services.ingest import alert_ingest
from opsdesk.alerts.services.subscriptions import sns_subscription_record
from opsdesk.alerts.sources import ADAPTERS
from opsdesk.alerts.sources.base import (
    AlertInput,
    Inbound,
    Parsed,
    SignatureError,
    SourceError,
)
from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput, NotFound, OpsDeskError
from opsdesk.core.masking import mask_value

DEAD_LETTER_BODY_LIMIT = 1_000_000
SECRET_HEADERS = ("authorization", "cookie", "x-opsdesk-signature", "x-hub-signature")


class SignatureInvalid(OpsDeskError):
    status_code = 401


@dataclass
class WebhookResult:
    ingest: IngestResult
    subscription: bool = False


def headers_masked(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {k.lower(): "***" if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}
    masked: dict[str, str] = mask_value(kept)
    return masked


def dead_letter_record(
    *,
    kind: str,
    integration: Integration | None,
    reason: str,
    detail: str,
    headers: Mapping[str, str],
    body: bytes,
) -> DeadLetter:
    """Keep a call we could not take; committed on its own, whatever the caller does next."""
    return DeadLetter.objects.create(
        kind=kind,
        integration=integration,
        reason=reason,
        detail=detail[:2000],
        headers=headers_masked(headers),
        body=body[:DEAD_LETTER_BODY_LIMIT].decode("utf-8", errors="backslashreplace"),
        received_at=now(),
    )


def _inbound(*, integration: Integration, body: bytes, headers: Mapping[str, str]) -> Inbound:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"the body is not JSON: {exc}") from exc
    return Inbound(
        body=body,
        data=data,
        headers={k.lower(): v for k, v in headers.items()},
        field_mapping=integration.field_mapping or {},
        hmac_secret=integration.hmac_secret,
        verify_signature=integration.verify_signature,
    )


# An adapter tripping over an odd body is a malformed payload (422, kept), never a 500.
PARSE_ERRORS = (SourceError, ValueError, TypeError, KeyError, AttributeError, IndexError)


class _Refused(Exception):
    """A call ``webhook_receive`` refuses: what to keep as a dead letter (no ``reason``: kept
    nothing) and the error to answer with."""

    def __init__(
        self,
        error: OpsDeskError,
        reason: str = "",
        detail: str = "",
        integration: Integration | None = None,
    ) -> None:
        super().__init__(error.message)
        self.error, self.reason, self.detail, self.integration = error, reason, detail, integration


def _parsed(
    *, kind: str, token: str, body: bytes, headers: Mapping[str, str]
) -> tuple[Integration, Parsed]:
    """The integration and the parsed call; raises _Refused."""
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise _Refused(NotFound(_("Unknown integration kind.")))
    integration = integration_for_token(kind=kind, token=token)
    if integration is None:
        raise _Refused(
            NotFound(_("Unknown or inactive integration.")),
            DeadLetterReason.UNKNOWN_TOKEN,
            f"token {token[:6]}…",
        )
    try:
        inbound = _inbound(integration=integration, body=body, headers=headers)
        adapter.authenticate(inbound)
        return integration, adapter.parse(inbound)
    except SignatureError as exc:
        raise _Refused(
            SignatureInvalid(str(exc)), DeadLetterReason.BAD_SIGNATURE, str(exc), integration
        ) from exc
    except PARSE_ERRORS as exc:
        detail = str(exc) or type(exc).__name__
        error = InvalidInput(str(exc) or _("Malformed payload."), field=None)
        raise _Refused(error, DeadLetterReason.MALFORMED, detail, integration) from exc


def webhook_accept(
    *, kind: str, token: str, body: bytes, headers: Mapping[str, str]
) -> WebhookResult | None:
    """``webhook_receive`` for a call it would take: a known integration, a valid signature,
    a body its adapter parses, no SNS subscription. None, having written nothing, for any
    other call, which ``webhook_receive`` then refuses (and dead-letters) or, for an SNS
    subscription, confirms. The WSGI fast path's service (alerts/fastpath.py)."""
    try:
        integration, parsed = _parsed(kind=kind, token=token, body=body, headers=headers)
    except _Refused:
        return None
    if parsed.subscription is not None:
        return None
    return WebhookResult(ingest=_ingest_retrying(integration=integration, alerts=parsed.alerts))


def webhook_receive(
    *, kind: str, token: str, body: bytes, headers: Mapping[str, str]
) -> WebhookResult:
    """Take one webhook call. Raises NotFound (unknown kind or token), SignatureInvalid or
    InvalidInput; every refused call with a known kind is kept as a dead letter."""
    try:
        integration, parsed = _parsed(kind=kind, token=token, body=body, headers=headers)
    except _Refused as refused:
        if refused.reason:
            dead_letter_record(
                kind=kind,
                integration=refused.integration,
                reason=refused.reason,
                detail=refused.detail,
                headers=headers,
                body=body,
            )
        raise refused.error from refused.__cause__
    if parsed.subscription is not None:
        # Raises SubscriptionUnconfirmed (503: SNS sends it again) when SNS is unreachable.
        sns_subscription_record(integration=integration, request=parsed.subscription)
    result = _ingest_retrying(integration=integration, alerts=parsed.alerts)
    return WebhookResult(ingest=result, subscription=parsed.subscription is not None)


def _ingest_retrying(*, integration: Integration, alerts: list[AlertInput]) -> IngestResult:
    """Two calls that race to create the same new alert: the loser retries as a repeat."""
    if not alerts:
        return IngestResult()
    try:
        return alert_ingest(integration=integration, alerts=alerts)
    except IntegrityError:
        return alert_ingest(integration=integration, alerts=alerts)
