from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketKind(models.TextChoices):
    CSR = "csr", _("Service request")
    INCIDENT = "incident", _("Incident")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    MONITORING = "monitoring", _("Monitoring")
    API = "api", _("API")
    AGENT = "agent", _("Agent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("In progress")
    PENDING_CUSTOMER = "pending_customer", _("Waiting on customer")
    PENDING_VENDOR = "pending_vendor", _("Waiting on vendor")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES: tuple[str, ...] = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING_CUSTOMER,
    Status.PENDING_VENDOR,
)

# The status workflow, in one table: from -> allowed next statuses.
# Resolved tickets can be reopened (a recurrence, a customer answer); closed ones cannot:
# a new ticket linked to the old one is made instead.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_VENDOR, Status.RESOLVED}
    ),
    Status.OPEN: frozenset({Status.PENDING_CUSTOMER, Status.PENDING_VENDOR, Status.RESOLVED}),
    Status.PENDING_CUSTOMER: frozenset({Status.OPEN, Status.PENDING_VENDOR, Status.RESOLVED}),
    Status.PENDING_VENDOR: frozenset({Status.OPEN, Status.PENDING_CUSTOMER, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Severity(models.TextChoices):
    """The procedure's incident classes: simple (remote fix), complex (4-hour recovery),
    urgent (everyone mobilised)."""

    SIMPLE = "simple", _("Simple")
    COMPLEX = "complex", _("Complex")
    URGENT = "urgent", _("Urgent")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD_CHANGED = "field_changed", _("Changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Internal note")
    REPLY = "reply", _("Reply to customer")
    CUSTOMER_MESSAGE = "customer_message", _("Customer message")
    CALL = "call", _("Phone call")
    SYSTEM = "system", _("System")
