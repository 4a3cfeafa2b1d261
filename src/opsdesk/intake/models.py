"""Intake records. Phone calls live here; email and monitoring intake add theirs.

See docs/subsystems/intake.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallSource(models.TextChoices):
    CTI = "cti", _("Telephony (CTI)")
    AGENT = "agent", _("Logged by an agent")


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class PhoneCall(models.Model):
    """A call to or from the support line, matched to a contact or organisation by number."""

    number_raw = models.CharField(_("number as given"), max_length=40)
    number = models.CharField(_("number (E.164)"), max_length=20, db_index=True, blank=True)
    direction = models.CharField(
        max_length=10, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    source = models.CharField(max_length=10, choices=CallSource.choices)
    contact = models.ForeignKey(
        "tenancy.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at", "-id"], name="call_recent")]

    def __str__(self) -> str:
        return f"call {self.pk} {self.started_at:%Y-%m-%d %H:%M}"


# --- Email channel (docs/subsystems/email.md) -------------------------------------------


class ReceivedVia(models.TextChoices):
    IMAP = "imap", _("IMAP")
    LMTP = "lmtp", _("LMTP/SMTP")
    FILE = "file", _("File")


class InboundAction(models.TextChoices):
    CREATED = "created", _("Created a ticket")
    THREADED = "threaded", _("Added to a ticket")
    IGNORED = "ignored", _("Ignored")
    QUARANTINED = "quarantined", _("Quarantined")


class ProcessedAction(models.TextChoices):
    MOVE = "move", _("Move to the processed folder")
    FLAG = "flag", _("Flag as seen")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class OutboundKind(models.TextChoices):
    ACKNOWLEDGMENT = "ack", _("Acknowledgment")
    REPLY = "reply", _("Agent reply")
    NOTICE = "notice", _("Notice")


class ParticipantKind(models.TextChoices):
    TO = "to", _("To")
    CC = "cc", _("Cc")


class Mailbox(models.Model):
    """An IMAP mailbox the poller reads. The password is never stored: ``password_env`` names
    the environment variable (read through config/env.py, so OPSDESK_<NAME>)."""

    name = models.SlugField(_("name"), max_length=60, unique=True)
    address = models.EmailField(_("address"), blank=True)
    host = models.CharField(_("IMAP host"), max_length=253)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    use_ssl = models.BooleanField(_("SSL/TLS"), default=True)
    use_starttls = models.BooleanField(_("STARTTLS"), default=False)
    username = models.CharField(_("user name"), max_length=200)
    password_env = models.CharField(
        _("password environment variable"),
        max_length=100,
        help_text=_(
            "The password is read from the environment variable OPSDESK_ plus this name: "
            "MAILBOX_SUPPORT_PASSWORD means OPSDESK_MAILBOX_SUPPORT_PASSWORD."
        ),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    processed_action = models.CharField(
        max_length=10, choices=ProcessedAction.choices, default=ProcessedAction.FLAG
    )
    processed_folder = models.CharField(_("processed folder"), max_length=200, blank=True)
    last_uid = models.PositiveBigIntegerField(default=0)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    poll_interval = models.PositiveIntegerField(_("poll interval (seconds)"), default=60)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Lets the process cache of our own addresses notice edits (core.configcache); the
    # poller's checkpoint writes are bare update()s and leave it alone.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name


def _raw_mail_path(instance: InboundMessage, filename: str) -> str:
    return f"mail/{instance.sha256[:2]}/{instance.sha256}.eml"


class InboundMessage(models.Model):
    """Every mail that reached OpsDesk, with what was done with it. The raw bytes are kept
    (content-addressed) so nothing is lost; quarantined rows are the admins' work list."""

    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    # message_id when present, else "sha256:<hex>": the same message twice is one article.
    dedup_key = models.CharField(max_length=998, unique=True)
    raw = models.FileField(upload_to=_raw_mail_path, max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    received_via = models.CharField(max_length=8, choices=ReceivedVia.choices)
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    from_address = models.CharField(max_length=320, blank=True, db_index=True)
    subject = models.CharField(max_length=500, blank=True)
    action = models.CharField(max_length=12, choices=InboundAction.choices)
    reason = models.CharField(max_length=500, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    event = models.ForeignKey(
        "tickets.TimelineEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["action", "-created_at"], name="inbound_action_new"),
            models.Index(fields=["from_address", "action", "created_at"], name="inbound_sender"),
        ]
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")

    def __str__(self) -> str:
        return f"{self.action} {self.from_address} {self.subject[:40]}"


class OutboundMessage(models.Model):
    """A mail OpsDesk sends (acknowledgment, agent reply, notice); delivered by a task."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="outbound_messages"
    )
    event = models.ForeignKey(
        "tickets.TimelineEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=OutboundKind.choices)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500)
    body = models.TextField()
    attachment_ids = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=998, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    auto_submitted = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbound mail")
        verbose_name_plural = _("outbound mail")

    def __str__(self) -> str:
        return f"{self.status} {self.subject[:40]}"


class TicketEmailParticipant(models.Model):
    """An address on a ticket's mail thread besides the contact (cc'd colleagues)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="email_participants"
    )
    address = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=2, choices=ParticipantKind.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "address"], name="uniq_ticket_participant")
        ]

    def __str__(self) -> str:
        return self.address
