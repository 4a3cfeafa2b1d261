"""Integrations, alerts, alert groups, silences and dead letters. See docs/subsystems/alerts.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.alerts.enums import (
    AlertSeverity,
    AlertStatus,
    DeadLetterReason,
    GroupStatus,
    ResolveMode,
    SilenceKind,
    SourceKind,
    SubscriptionStatus,
)


def default_group_by() -> list[str]:
    return ["alertname"]


class Integration(models.Model):
    """One monitoring sender: a URL with a secret token (/api/v1/integrations/<kind>/<token>/)."""

    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    name = models.CharField(_("name"), max_length=120)
    token = models.CharField(_("token"), max_length=64, unique=True)
    # Where incidents go when no mapping rule matches; without it they wait in triage.
    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations",
    )
    contract = models.ForeignKey(
        "tenancy.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolve_mode = models.CharField(
        _("when the source resolves"),
        max_length=10,
        choices=ResolveMode.choices,
        default=ResolveMode.RESOLVE,
    )
    # Label keys whose values make the group key; empty means the source's own grouping.
    group_by = models.JSONField(_("group by labels"), default=default_group_by, blank=True)
    hmac_secret = models.CharField(_("HMAC secret"), max_length=128, blank=True)
    # Generic sources: dotted paths for fingerprint, status, summary, severity, labels.
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    # CloudWatch: check the SNS message signature (off only where the cert cannot be fetched).
    verify_signature = models.BooleanField(_("verify signatures"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class MappingRule(models.Model):
    """Labels → organisation, contract and severity. The lowest ``order`` that matches wins."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, null=True, blank=True, related_name="rules"
    )
    # {label: value}: exact match, or a full-match regular expression when written as /re/.
    matchers = models.JSONField(_("label matchers"), default=dict)
    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="alert_rules"
    )
    contract = models.ForeignKey(
        "tenancy.Contract", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    severity = models.CharField(_("incident severity"), max_length=10, blank=True)
    priority = models.CharField(_("incident priority"), max_length=10, blank=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    # Lets each process's cache of rules notice edits (core.configcache, services/groups.py).
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("alert mapping rule")
        verbose_name_plural = _("alert mapping rules")

    def __str__(self) -> str:
        return f"{self.matchers} → {self.organisation_id}"


class AlertGroup(models.Model):
    """Alerts that share a group key; one group is one incident."""

    # No index of its own: (integration, group_key) leads with it (see Alert.integration).
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="groups", db_index=False
    )
    group_key = models.CharField(_("group key"), max_length=255)
    incident = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_groups",
    )
    status = models.CharField(_("status"), max_length=10, choices=GroupStatus.choices)
    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contract = models.ForeignKey(
        "tenancy.Contract", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    firing_count = models.PositiveIntegerField(_("firing"), default=0)
    created_at = models.DateTimeField(_("created"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["integration", "group_key"]),
            models.Index(fields=["status"]),
        ]
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")

    def __str__(self) -> str:
        return self.summary or self.group_key


class Alert(models.Model):
    """One alert as the source identifies it (its fingerprint); repeats only bump the count."""

    # No index of its own: the unique (integration, fingerprint) index leads with it. A
    # second, smaller index on the column alone drew the planner while the table had no
    # statistics (a server without autovacuum), and the generic plan it kept then read
    # every alert of the integration per repeat (decision 0008's addendum).
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=255)
    group = models.ForeignKey(
        AlertGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict)
    source_url = models.URLField(_("source link"), max_length=1000, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    count = models.PositiveIntegerField(_("count"), default=1)
    is_silenced = models.BooleanField(_("silenced"), default=False)
    # Flapping: state changes counted in a sliding window (services.FLAP_*).
    flap_window_start = models.DateTimeField(null=True, blank=True)
    flap_changes = models.PositiveIntegerField(default=0)
    is_flapping = models.BooleanField(_("flapping"), default=False)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "fingerprint"], name="alert_unique_fingerprint"
            )
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return self.summary or self.fingerprint


class Silence(models.Model):
    """Alerts whose labels match arrive and are stored, but open no incident."""

    kind = models.CharField(
        _("kind"), max_length=12, choices=SilenceKind.choices, default=SilenceKind.SILENCE
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, null=True, blank=True, related_name="silences"
    )
    matchers = models.JSONField(_("label matchers"), default=dict)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    comment = models.CharField(_("comment"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Lets each process's cache of silences notice edits (core.configcache, services/groups.py).
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at"])]
        verbose_name = _("silence")
        verbose_name_plural = _("silences")

    def __str__(self) -> str:
        return f"{self.kind}: {self.matchers}"


class DeadLetter(models.Model):
    """A webhook call that could not become alerts, kept with its body for an administrator."""

    integration = models.ForeignKey(
        Integration, on_delete=models.SET_NULL, null=True, blank=True, related_name="dead_letters"
    )
    kind = models.CharField(_("kind"), max_length=20)
    reason = models.CharField(_("reason"), max_length=20, choices=DeadLetterReason.choices)
    detail = models.TextField(_("detail"), blank=True)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.TextField(_("body"), blank=True)
    received_at = models.DateTimeField(_("received"))

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self) -> str:
        return f"{self.kind} {self.reason} {self.received_at:%Y-%m-%d %H:%M}"


class SnsSubscription(models.Model):
    """An AWS SNS subscription of a CloudWatch integration: the SubscriptionConfirmation
    received, OpsDesk's visit to its SubscribeURL and a later UnsubscribeConfirmation."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="sns_subscriptions"
    )
    topic_arn = models.CharField(_("topic"), max_length=255)
    subscribe_url = models.URLField(_("subscribe URL"), max_length=2000)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.PENDING,
    )
    # From SNS's ConfirmSubscriptionResponse.
    subscription_arn = models.CharField(_("subscription ARN"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("confirmation attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["integration", "topic_arn"])]
        verbose_name = _("SNS subscription")
        verbose_name_plural = _("SNS subscriptions")

    def __str__(self) -> str:
        return self.topic_arn
