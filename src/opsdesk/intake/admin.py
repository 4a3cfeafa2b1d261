from django.contrib import admin

from opsdesk.intake.models import PhoneCall


@admin.register(PhoneCall)
class PhoneCallAdmin(admin.ModelAdmin):
    list_display = ("started_at", "number", "source", "contact", "organisation", "agent", "ticket")
    list_filter = ("source", "direction")
    list_select_related = ("contact", "organisation", "agent", "ticket")
    search_fields = ("number", "ticket__reference")
    readonly_fields = ("contact", "organisation", "agent", "ticket")
