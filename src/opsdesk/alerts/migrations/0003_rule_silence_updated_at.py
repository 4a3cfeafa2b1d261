# Mapping rules and silences are cached per process under the configuration stamp
# (core.configcache), which reads each table's row count and latest updated_at.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_sns_confirmation"),
    ]

    operations = [
        migrations.AddField(
            model_name="mappingrule",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="updated"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="silence",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="updated"
            ),
            preserve_default=False,
        ),
    ]
