"""Admin for people's quiet hours and, read-only, delivery records
(docs/subsystems/notifications.md)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.notify.models import Delivery, QuietHours


@admin.register(QuietHours)
class QuietHoursAdmin(admin.ModelAdmin):
    list_display = ["user", "starts", "ends", "timezone"]
    search_fields = ["user__username"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "user", "status", "urgent", "attempts", "created_at"]
    list_filter = ["channel", "status", "urgent"]
    search_fields = ["source", "provider_id"]
    # Records of what was sent: the outbox writes them, nobody edits them by hand.
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
