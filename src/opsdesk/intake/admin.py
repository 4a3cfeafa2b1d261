from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from opsdesk.intake.models import (
    InboundMessage,
    Mailbox,
    OutboundMessage,
    PhoneCall,
    TicketEmailParticipant,
)


@admin.register(PhoneCall)
class PhoneCallAdmin(admin.ModelAdmin):
    list_display = ("started_at", "number", "source", "contact", "organisation", "agent", "ticket")
    list_filter = ("source", "direction")
    list_select_related = ("contact", "organisation", "agent", "ticket")
    search_fields = ("number", "ticket__reference")
    readonly_fields = ("contact", "organisation", "agent", "ticket")


# --- Email channel (docs/subsystems/email.md) -------------------------------------------


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    """IMAP mailboxes the poller reads. The password itself is never stored: set the
    environment variable OPSDESK_<password env> for `opsdesk mail-poll`."""

    list_display = ("name", "address", "host", "port", "folder", "is_active", "last_polled_at")
    list_filter = ("is_active",)
    readonly_fields = ("last_uid", "uidvalidity", "last_polled_at", "last_error")
    fieldsets = (
        (None, {"fields": ("name", "address", "is_active", "poll_interval")}),
        (_("Server"), {"fields": ("host", "port", "use_ssl", "use_starttls")}),
        (_("Login"), {"fields": ("username", "password_env")}),
        (_("Folders"), {"fields": ("folder", "processed_action", "processed_folder")}),
        (_("State"), {"fields": ("last_uid", "uidvalidity", "last_polled_at", "last_error")}),
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Every mail received; filter on 'Quarantined' for the admins' work list. Rows and raw
    files are kept: there is no delete."""

    list_display = ("created_at", "action", "from_address", "subject", "reason", "ticket")
    list_filter = ("action", "received_via", "mailbox")
    search_fields = ("from_address", "subject", "message_id", "ticket__reference")
    list_select_related = ("ticket", "mailbox")
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "status", "subject", "attempts", "ticket")
    list_filter = ("status", "kind")
    search_fields = ("subject", "message_id", "ticket__reference")
    list_select_related = ("ticket",)
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(TicketEmailParticipant)
class TicketEmailParticipantAdmin(admin.ModelAdmin):
    list_display = ("ticket", "address", "kind", "created_at")
    search_fields = ("address", "ticket__reference")
    list_select_related = ("ticket",)
