"""Admin for the monitoring intake: integrations, mapping rules and silences are edited
here; alerts, groups and dead letters are read-only records. See docs/subsystems/alerts.md."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opsdesk.alerts.matching import MatcherError, matchers_parse, matches_everything
from opsdesk.alerts.models import (
    Alert,
    AlertGroup,
    DeadLetter,
    Integration,
    MappingRule,
    Silence,
    SnsSubscription,
)
from opsdesk.alerts.selectors import integration_url
from opsdesk.alerts.services import integration_saved, integration_token_new


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organisation", "resolve_mode", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    readonly_fields = ("token", "webhook_url", "created_at")

    def save_model(
        self, request: HttpRequest, obj: Integration, form: object, change: bool
    ) -> None:
        if not obj.token:
            obj.token = integration_token_new()
        super().save_model(request, obj, form, change)
        integration_saved(integration=obj)

    @admin.display(description=_("webhook URL"))
    def webhook_url(self, obj: Integration) -> str:
        return integration_url(integration=obj) if obj.pk else ""


def _matchers_clean(raw: Any, *, silence: bool) -> list[dict[str, str]]:
    """The same checks as the API (matching.matchers_parse), as a form error."""
    try:
        parsed = matchers_parse(raw)
    except MatcherError as exc:
        raise forms.ValidationError(str(exc)) from exc
    if silence and matches_everything(parsed):
        raise forms.ValidationError(
            _("At least one matcher must not match an empty label: it would hide every alert.")
        )
    return [m.as_dict() for m in parsed]


class MappingRuleForm(forms.ModelForm):
    class Meta:
        model = MappingRule
        fields = [
            "integration",
            "matchers",
            "organisation",
            "contract",
            "severity",
            "priority",
            "order",
        ]

    def clean_matchers(self) -> list[dict[str, str]]:
        return _matchers_clean(self.cleaned_data.get("matchers"), silence=False)


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = [
            "kind",
            "integration",
            "matchers",
            "starts_at",
            "ends_at",
            "comment",
            "created_by",
        ]

    def clean_matchers(self) -> list[dict[str, str]]:
        return _matchers_clean(self.cleaned_data.get("matchers"), silence=True)


@admin.register(MappingRule)
class MappingRuleAdmin(admin.ModelAdmin):
    form = MappingRuleForm
    list_display = ("order", "integration", "matchers", "organisation", "contract", "severity")
    list_filter = ("integration",)


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    form = SilenceForm
    list_display = ("kind", "matchers", "starts_at", "ends_at", "integration", "comment")
    list_filter = ("kind",)


@admin.register(AlertGroup)
class AlertGroupAdmin(ReadOnlyAdmin):
    list_display = ("summary", "integration", "status", "incident", "alert_count", "firing_count")
    list_filter = ("status", "integration")
    search_fields = ("summary", "group_key")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("summary", "integration", "status", "severity", "count", "last_seen")
    list_filter = ("status", "severity", "is_flapping", "is_silenced")
    search_fields = ("fingerprint", "summary")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "kind", "reason", "integration", "detail")
    list_filter = ("reason", "kind")


@admin.register(SnsSubscription)
class SnsSubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "topic_arn",
        "integration",
        "status",
        "received_at",
        "confirmed_at",
        "unsubscribed_at",
        "last_error",
    )
    list_filter = ("status",)
