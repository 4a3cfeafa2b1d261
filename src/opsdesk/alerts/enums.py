"""Choices of the monitoring intake. See docs/subsystems/alerts.md."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GRAFANA = "grafana", _("Grafana")
    ZABBIX = "zabbix", _("Zabbix")
    CLOUDWATCH = "cloudwatch", _("AWS CloudWatch (SNS)")
    AZURE_MONITOR = "azure-monitor", _("Azure Monitor")
    DATADOG = "datadog", _("Datadog")
    GENERIC = "generic", _("Generic JSON")


class ResolveMode(models.TextChoices):
    RESOLVE = "resolve", _("Resolve the incident")
    ANNOTATE = "annotate", _("Only note it on the timeline")


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")
    # Neither firing nor resolved (CloudWatch INSUFFICIENT_DATA, Datadog "No Data"):
    # noted on the incident, never changes the alert's state.
    UNKNOWN = "unknown", _("Unknown")


class AlertSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class GroupStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")
    # No organisation matched: kept without an incident until someone maps it.
    TRIAGE = "triage", _("Triage")
    # Every alert of the group arrived under a silence or maintenance window.
    SILENCED = "silenced", _("Silenced")


class SilenceKind(models.TextChoices):
    SILENCE = "silence", _("Silence")
    MAINTENANCE = "maintenance", _("Maintenance window")


class DeadLetterReason(models.TextChoices):
    UNKNOWN_TOKEN = "unknown_token", _("Unknown or inactive integration")
    BAD_SIGNATURE = "bad_signature", _("Signature check failed")
    MALFORMED = "malformed", _("Malformed payload")


class SilenceState(models.TextChoices):
    """Derived from the time range, never stored."""

    ACTIVE = "active", pgettext_lazy("silence state", "Active")
    PENDING = "pending", _("Pending")
    EXPIRED = "expired", _("Expired")


class SubscriptionStatus(models.TextChoices):
    """An AWS SNS subscription of a CloudWatch integration."""

    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Confirmation failed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
