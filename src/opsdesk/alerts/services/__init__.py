"""Every write of the monitoring intake. See docs/subsystems/alerts.md.

``webhook_receive`` authenticates and parses one webhook call (dead-lettering what it cannot
take) and hands the alerts to ``alert_ingest``, which stores them, groups them and opens,
annotates, resolves or reopens incidents through opsdesk.tickets.services.
"""

from opsdesk.alerts.services.batch import (
    FLAP_THRESHOLD,
    FLAP_WINDOW,
    REOPEN_WINDOW,
    SEVERITY_MAP,
    IngestResult,
)
from opsdesk.alerts.services.config import (
    integration_create,
    integration_saved,
    integration_token_new,
    mapping_rule_create,
    mapping_rule_delete,
    mapping_rule_update,
    silence_create,
    silence_expire,
    silence_update,
)
from opsdesk.alerts.services.groups import group_key
from opsdesk.alerts.services.ingest import alert_ingest
from opsdesk.alerts.services.subscriptions import (
    SubscriptionUnconfirmed,
    sns_subscription_record,
)
from opsdesk.alerts.services.webhook import (
    SignatureInvalid,
    WebhookResult,
    dead_letter_record,
    headers_masked,
    webhook_accept,
    webhook_receive,
)

__all__ = [
    "FLAP_THRESHOLD",
    "FLAP_WINDOW",
    "REOPEN_WINDOW",
    "SEVERITY_MAP",
    "IngestResult",
    "SignatureInvalid",
    "SubscriptionUnconfirmed",
    "WebhookResult",
    "alert_ingest",
    "dead_letter_record",
    "group_key",
    "headers_masked",
    "integration_create",
    "integration_saved",
    "integration_token_new",
    "mapping_rule_create",
    "mapping_rule_delete",
    "mapping_rule_update",
    "silence_create",
    "silence_expire",
    "silence_update",
    "sns_subscription_record",
    "webhook_accept",
    "webhook_receive",
]
