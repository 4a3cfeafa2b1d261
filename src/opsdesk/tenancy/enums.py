from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceLine(models.TextChoices):
    CONSULTING = "consulting", _("Consulting")
    BUSINESS_SUPPORT = "business_support", _("Cloud business support")
    MIGRATION = "migration", _("Migration")
    MANAGED_SERVICE = "managed_service", _("Managed service")
    IAAS = "iaas", _("IaaS")
    XAAS = "xaas", _("XaaS")


class SupportHours(models.TextChoices):
    BUSINESS = "business", _("Business hours")
    ALWAYS = "24x7", _("24x7")


class Cloud(models.TextChoices):
    AWS = "aws", "AWS"
    AZURE = "azure", "Azure"
    GCP = "gcp", "GCP"
    NAVER = "naver", _("Naver Cloud")
    NHN = "nhn", _("NHN Cloud")
    KT = "kt", _("KT Cloud")
    ON_PREMISES = "on_premises", _("On-premises")


class Language(models.TextChoices):
    KO = "ko", _("Korean")
    EN = "en", _("English")


class TeamKind(models.TextChoices):
    FIRST_LINE = "first_line", _("First line (customer support)")
    TECHNICAL = "technical", _("Technical support")


class MemberRole(models.TextChoices):
    """A person's role within one team."""

    AGENT = "agent", _("Agent")
    ENGINEER = "engineer", _("Engineer")
    TEAM_LEAD = "team_lead", _("Team lead")


class StaffRole(models.TextChoices):
    """A person's role across the whole support centre."""

    STAFF = "staff", _("Staff")
    CENTRE_HEAD = "centre_head", _("Centre head")
    ADMIN = "admin", _("Administrator")
