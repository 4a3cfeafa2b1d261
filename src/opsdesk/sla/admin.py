from django.contrib import admin

from opsdesk.sla.models import BusinessCalendar, CalendarDay, SlaPolicy, SlaTarget


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "calendar", "warn_at_percent", "first_response_minutes")
    list_select_related = ("calendar",)
    inlines = (SlaTargetInline,)


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "country_holidays", "is_24x7")
    inlines = (CalendarDayInline,)
