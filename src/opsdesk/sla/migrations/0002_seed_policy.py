from django.db import migrations


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicy.objects.get_or_create(
        name="Standard",
        defaults={
            "description": "First response 1 h, recovery of complex incidents 4 h, resolution 2 days.",
            "first_response_minutes": 60,
            "recovery_minutes": 240,
            "resolution_minutes": 2880,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
