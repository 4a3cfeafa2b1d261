from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.tickets.models import Ticket, TimelineEvent


class TimelineInline(admin.TabularInline):
    """Read-only: the timeline is append-only history, changed only through services."""

    model = TimelineEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "actor_label", "changes", "body", "is_internal")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets are worked in the agent UI; the admin shows them read-only so that no change
    bypasses the timeline."""

    list_display = (
        "reference",
        "subject",
        "organisation",
        "status",
        "priority",
        "team",
        "assignee",
    )
    list_filter = ("kind", "status", "priority", "channel")
    search_fields = ("reference", "subject")
    list_select_related = ("organisation", "team", "assignee")
    inlines = [TimelineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
