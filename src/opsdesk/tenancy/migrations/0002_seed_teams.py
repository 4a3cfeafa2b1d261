"""Seed the procedure's three teams and its routing table as ordinary, editable rows."""

from django.db import migrations

TEAMS = [
    (
        "service-operations",
        "서비스운영팀",
        "Service operations",
        "first_line",
        "First-line customer support: cloud migration, customer response, staffing and build "
        "support.",
    ),
    (
        "platform-service",
        "플랫폼서비스팀",
        "Platform service",
        "technical",
        "DevOps, MSA and Hadoop on the cloud platform; monitoring solution support; customer "
        "technical support.",
    ),
    (
        "service-support",
        "서비스지원팀",
        "Service support",
        "technical",
        "Cloud business support and consulting; cloud security policy and personal-data "
        "management support.",
    ),
]

# service line -> (first-line team, technical team), as in the procedure's routing table.
ROUTES = {
    "migration": ("service-operations", "platform-service"),
    "iaas": ("service-operations", "platform-service"),
    "managed_service": ("service-operations", "platform-service"),
    "xaas": ("service-operations", "platform-service"),
    "consulting": ("service-operations", "service-support"),
    "business_support": ("service-operations", "service-support"),
}


def seed(apps, schema_editor):
    Team = apps.get_model("tenancy", "Team")
    RoutingRule = apps.get_model("tenancy", "RoutingRule")
    teams = {}
    for slug, name, name_en, kind, description in TEAMS:
        teams[slug], _ = Team.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "name_en": name_en, "kind": kind, "description": description},
        )
    for line, (first, technical) in ROUTES.items():
        RoutingRule.objects.get_or_create(
            service_line=line,
            contract=None,
            defaults={"first_line_team": teams[first], "technical_team": teams[technical]},
        )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
