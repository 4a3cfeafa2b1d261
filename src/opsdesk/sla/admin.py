from django.contrib import admin

from opsdesk.sla.models import SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "first_response_minutes", "recovery_minutes", "resolution_minutes")
