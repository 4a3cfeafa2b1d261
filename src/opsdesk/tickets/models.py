"""Tickets (service requests and incidents) and their append-only timeline.

See docs/subsystems/tickets.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tickets.enums import (
    OPEN_STATUSES,
    Channel,
    EventKind,
    Priority,
    Severity,
    Status,
    TicketKind,
)


class ReferenceSequence(models.Model):
    """Per-prefix, per-year counter behind public references like CSR-2026-000123: the
    counter itself on SQLite; on PostgreSQL the floor a new sequence of the year starts above
    (tickets.services.references)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="uniq_ref_seq")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class Ticket(models.Model):
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TicketKind.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)

    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # tkt_org_new leads with it
    )
    contact = models.ForeignKey(
        "tenancy.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # tkt_contact_new leads with it
    )
    contract = models.ForeignKey(
        "tenancy.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    service_line = models.CharField(
        _("service line"), max_length=20, choices=ServiceLine.choices, blank=True
    )
    team = models.ForeignKey(
        "tenancy.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # tkt_team_status_* lead with it
    )
    technical_team = models.ForeignKey(
        "tenancy.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="technical_tickets",
        db_index=False,  # tkt_tech_status_new leads with it
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,  # tkt_assignee_status_* lead with it
    )
    # A follow-up to an earlier ticket (a recurrence after closing, a new mail on an old thread).
    related_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )

    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The nearest deadline of the SLA clocks that are running now (None when none runs, e.g.
    # while paused waiting on the customer) and when its warning share is reached. Both are
    # derived from the timeline by sla.services.ticket_sla_refresh; queues sort and filter on
    # them.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(_("SLA warning at"), null=True, blank=True)

    class Meta:
        # A foreign key that one of these indexes leads with has no index of its own: every
        # look-up by it can use the composite one, each INSERT maintains one index fewer,
        # and a prepared statement's generic plan cannot settle on the narrower index
        # without statistics (decision 0008's addendum).
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Queue shapes: team queue by status (then SLA due / newest), my queue,
            # unassigned, an organisation's history. Each list is one indexed query
            # with keyset pagination on (created_at, id).
            models.Index(fields=["team", "status", "due_at"], name="tkt_team_status_due"),
            models.Index(
                fields=["team", "status", "-created_at", "-id"], name="tkt_team_status_new"
            ),
            models.Index(
                fields=["technical_team", "status", "-created_at", "-id"],
                name="tkt_tech_status_new",
            ),
            models.Index(
                fields=["assignee", "status", "-created_at", "-id"], name="tkt_assignee_status_new"
            ),
            models.Index(fields=["status", "-created_at", "-id"], name="tkt_status_new"),
            models.Index(fields=["status", "due_at", "id"], name="tkt_status_due"),
            models.Index(fields=["assignee", "status", "due_at"], name="tkt_assignee_status_due"),
            models.Index(fields=["organisation", "-created_at", "-id"], name="tkt_org_new"),
            models.Index(fields=["contact", "-created_at", "-id"], name="tkt_contact_new"),
            models.Index(fields=["-created_at", "-id"], name="tkt_new"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AppendOnlyQuerySet(models.QuerySet["TimelineEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Timeline events are append-only; they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Timeline events are append-only; they cannot be deleted.")


class TimelineEvent(models.Model):
    """One step of a ticket's history. Append-only: never updated, never deleted.

    ``changes`` holds {field: {"before": ..., "after": ...}} for every field a step changed,
    so the whole work-request history can be replayed.
    """

    # evt_ticket_time leads with it: no index of its own (see Ticket.Meta).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who acted when it was not a staff user: a contact, a monitoring source, "system".
    actor_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    is_internal = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="evt_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.kind}@{self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Timeline events are append-only; they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Timeline events are append-only; they cannot be deleted.")


def _attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is the content hash: no user-controlled path reaches the disk, and the
    # original name is kept in ``filename`` for display and download.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a ticket (a customer's log file, an image, a vendor's report).

    Downloaded only through the ticket's access check (tickets/views.py), never by a public
    media URL.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        TimelineEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_id = models.CharField(max_length=255, blank=True)
    is_inline = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="att_ticket_time")]

    def __str__(self) -> str:
        return self.filename
