"""Agent-UI forms of the monitoring intake (silences). See docs/subsystems/alerts.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsdesk.alerts.enums import SilenceKind
from opsdesk.alerts.models import Integration
from opsdesk.core.clock import now

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
DURATIONS = [
    ("1", _("1 hour")),
    ("2", _("2 hours")),
    ("4", _("4 hours")),
    ("8", _("8 hours")),
    ("24", _("1 day")),
    ("72", _("3 days")),
    ("168", _("1 week")),
]


class SilenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SilenceKind.choices)
    matchers = forms.CharField(
        label=_("Label matchers"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": 'instance=~"web-.*"\nenv="prod"'}),
        help_text=_(
            'One per line, like Alertmanager: env="prod", env!="dev", '
            'instance=~"web-.*", severity!~"info|debug".'
        ),
    )
    integration = forms.ModelChoiceField(
        label=_("Integration"),
        queryset=Integration.objects.order_by("name"),
        required=False,
        empty_label=_("Every integration"),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        input_formats=[DATETIME_INPUT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=_("Empty: now."),
    )
    duration = forms.ChoiceField(label=_("Lasts"), choices=DURATIONS, initial="2")
    ends_at = forms.DateTimeField(
        label=_("Or ends"),
        required=False,
        input_formats=[DATETIME_INPUT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
    )
    comment = forms.CharField(label=_("Comment"), max_length=255, required=False)

    def times(self) -> tuple[datetime, datetime]:
        """(starts_at, ends_at) of a valid form: an explicit end wins over the duration."""
        data: dict[str, Any] = self.cleaned_data
        starts_at = data.get("starts_at") or now()
        ends_at = data.get("ends_at") or starts_at + timedelta(hours=int(data["duration"]))
        return starts_at, ends_at
