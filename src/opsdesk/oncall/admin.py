from django.contrib import admin

from opsdesk.oncall.models import (
    ContactMethod,
    Escalation,
    EscalationPolicy,
    EscalationStep,
    NotificationRule,
    Override,
    Rotation,
    Schedule,
)


class RotationInline(admin.TabularInline):
    model = Rotation
    extra = 0


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "timezone"]
    inlines = [RotationInline, OverrideInline]


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "contract", "mode", "repeat_count", "is_active"]
    inlines = [StepInline]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "state", "step_index", "cycle", "started_at"]
    list_filter = ["state"]
    readonly_fields = ["snapshot", "run_token"]


admin.site.register(ContactMethod)
admin.site.register(NotificationRule)
