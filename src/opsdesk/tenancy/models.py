"""Customers (organisations, contacts, contracts) and the support centre (staff, teams, routing).

See docs/subsystems/tenancy.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.core.models import TimeStampedModel
from opsdesk.tenancy.enums import (
    Cloud,
    Language,
    MemberRole,
    ServiceLine,
    StaffRole,
    SupportHours,
    TeamKind,
)


class Organisation(TimeStampedModel):
    """A customer company."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.KO
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class OrganisationDomain(models.Model):
    """An email domain that identifies the organisation's senders."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


class OrganisationPhone(models.Model):
    """A switchboard or office number: a call from it is recognised as the organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=60, blank=True)

    def __str__(self) -> str:
        return self.number


class Contact(TimeStampedModel):
    """A person at a customer. Contacts have no agent access."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contacts", null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("address"), unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    # Set by the email channel when an outbound mail bounces.
    bouncing_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.address


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    def __str__(self) -> str:
        return self.number


class Contract(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # A contract covers one or more service lines; a ticket picks one of them.
    service_lines = models.JSONField(_("service lines"), default=list)
    support_hours = models.CharField(
        _("support hours"),
        max_length=10,
        choices=SupportHours.choices,
        default=SupportHours.BUSINESS,
    )
    clouds = models.JSONField(_("clouds"), default=list)
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def service_line_labels(self) -> list[str]:
        return [str(ServiceLine(v).label) for v in self.service_lines if v in ServiceLine.values]

    def cloud_labels(self) -> list[str]:
        return [str(Cloud(v).label) for v in self.clouds if v in Cloud.values]


class Team(TimeStampedModel):
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name (Korean)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=TeamKind.choices)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("team email"), blank=True)
    members: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=12, choices=MemberRole.choices)
    # Round-robin state: the member assigned longest ago is next.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="uniq_team_member"),
        ]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.team} ({self.role})"


class StaffProfile(models.Model):
    """What makes a Django user a member of the support centre's staff."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    role = models.CharField(
        _("role"), max_length=12, choices=StaffRole.choices, default=StaffRole.STAFF
    )
    phone = models.CharField(_("mobile (E.164)"), max_length=20, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.KO
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    # Round-robin skips people who are away; an admin or the person toggles this.
    is_available = models.BooleanField(_("available for assignment"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return self.display_name

    @property
    def sees_everything(self) -> bool:
        return self.role in (StaffRole.CENTRE_HEAD, StaffRole.ADMIN)


class RoutingRule(models.Model):
    """Which teams handle a service line, optionally only for one contract.

    A contract-specific rule wins over the service line's general rule.
    """

    service_line = models.CharField(_("service line"), max_length=20, choices=ServiceLine.choices)
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="routing_rules"
    )
    first_line_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="first_line_rules"
    )
    technical_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="technical_rules"
    )
    # Overrides round-robin: every ticket matching this rule goes to this person.
    fixed_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Lets the process cache of routing rules notice edits (core.configcache).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_line", "contract"], name="uniq_routing_rule_line_contract"
            ),
            models.UniqueConstraint(
                fields=["service_line"],
                condition=models.Q(contract__isnull=True),
                name="uniq_routing_rule_general",
            ),
        ]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        scope = self.contract.code if self.contract_id and self.contract else "*"
        return f"{self.service_line} [{scope}] -> {self.first_line_team}"
