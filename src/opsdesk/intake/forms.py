"""The "log a call" form. Durations are typed the way agents say them: 4:30, 4 or 1:02:00."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsdesk.tickets.enums import Priority, Severity, TicketKind

NEW_TICKET = "new"
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,3}):([0-5]\d)$")


def parse_duration(text: str) -> int | None:
    """'4:30' -> 270, '12' (minutes) -> 720, '1:02:00' -> 3720, '' -> None."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text) * 60
    match = _CLOCK.match(text)
    if match is None:
        raise forms.ValidationError(_("Type the duration as mm:ss or as minutes, e.g. 4:30 or 5."))
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


class CallLogForm(forms.Form):
    number = forms.CharField(max_length=40, label=_("Caller's number"))
    call = forms.IntegerField(required=False, widget=forms.HiddenInput)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label=_("Call notes"))
    duration = forms.CharField(
        required=False,
        max_length=12,
        label=_("Duration"),
        widget=forms.TextInput(attrs={"placeholder": "mm:ss", "inputmode": "numeric"}),
    )
    target = forms.CharField(max_length=24, initial=NEW_TICKET)
    organisation = forms.CharField(required=False, max_length=40)
    contact = forms.IntegerField(required=False)
    contract = forms.IntegerField(required=False, label=_("Contract"))
    subject = forms.CharField(required=False, max_length=300, label=_("Subject"))
    kind = forms.ChoiceField(choices=TicketKind.choices, initial=TicketKind.CSR, label=_("Kind"))
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, label=_("Priority")
    )
    severity = forms.ChoiceField(
        required=False, choices=[("", "—"), *Severity.choices], label=_("Severity")
    )

    def clean_duration(self) -> int | None:
        return parse_duration(self.cleaned_data.get("duration") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == NEW_TICKET and not (data.get("subject") or "").strip():
            self.add_error("subject", _("Give the new ticket a subject."))
        return data
