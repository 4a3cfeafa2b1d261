from __future__ import annotations

from django.contrib import admin

from opsdesk.tenancy.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Contract,
    Organisation,
    OrganisationDomain,
    OrganisationPhone,
    RoutingRule,
    StaffProfile,
    Team,
    TeamMembership,
)


class OrganisationDomainInline(admin.TabularInline):
    model = OrganisationDomain
    extra = 0


class OrganisationPhoneInline(admin.TabularInline):
    model = OrganisationPhone
    extra = 0


class ContractInline(admin.TabularInline):
    model = Contract
    extra = 0
    fields = ("code", "name", "service_lines", "support_hours", "clouds", "sla_policy", "is_active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "language", "is_active")
    search_fields = ("name", "code", "domains__domain")
    list_filter = ("is_active", "language")
    inlines = [OrganisationDomainInline, OrganisationPhoneInline, ContractInline]


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 0


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "title", "is_active")
    search_fields = ("name", "emails__address", "phones__number")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    inlines = [ContactEmailInline, ContactPhoneInline]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "organisation", "support_hours", "sla_policy", "is_active")
    search_fields = ("code", "name", "organisation__name")
    list_filter = ("support_hours", "is_active")
    list_select_related = ("organisation", "sla_policy")
    autocomplete_fields = ("organisation",)


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("last_assigned_at",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "slug", "kind")
    search_fields = ("name", "name_en", "slug")
    inlines = [TeamMembershipInline]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "role", "is_available", "is_active")
    list_filter = ("role", "is_available", "is_active")
    search_fields = ("display_name", "user__username")
    autocomplete_fields = ("user",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "service_line",
        "contract",
        "first_line_team",
        "technical_team",
        "fixed_assignee",
    )
    list_filter = ("service_line",)
    list_select_related = ("contract", "first_line_team", "technical_team", "fixed_assignee")
    autocomplete_fields = ("contract", "fixed_assignee")
