"""Forms of the agent UI for tickets. They only shape input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from opsdesk.core.errors import OpsDeskError
from opsdesk.core.people import display_name
from opsdesk.core.widgets import FastSelect
from opsdesk.tenancy.enums import ServiceLine
from opsdesk.tenancy.models import Contact, Contract, Organisation, Team
from opsdesk.tenancy.selectors import contact_list, contract_list, organisation_list, staff_list
from opsdesk.tickets.enums import (
    STATUS_TRANSITIONS,
    Channel,
    Priority,
    Severity,
    Status,
    TicketKind,
)
from opsdesk.tickets.models import Ticket

# Fixed messages the services raise, listed so makemessages extracts them for translation
# (the services pass them untranslated; the UI translates them when shown).
SERVICE_MESSAGES = (
    gettext_noop("A ticket needs a subject."),
    gettext_noop("A note cannot be empty."),
    gettext_noop("A reply cannot be empty."),
    gettext_noop("Tickets can only be assigned to active staff."),
    gettext_noop("The contact belongs to another organisation."),
    gettext_noop("The contract belongs to another organisation."),
    gettext_noop("The organisation is not active."),
    gettext_noop("The duration cannot be negative."),
    gettext_noop("Give the new ticket a subject, or choose an open ticket."),
    gettext_noop("The caller is not recognised: choose the customer before opening a ticket."),
    gettext_noop("A phone number is required."),
    gettext_noop("API tokens are for support-centre staff only."),
    gettext_noop("No such active token."),
    gettext_noop("The cursor is not valid; start from the first page."),
)


def add_service_error(form: forms.Form, exc: OpsDeskError) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, gettext(exc.message))


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class _ListedChoices(forms.models.ModelChoiceIterator):
    """The choices read by one plain query. Django's iterator() reads them through a
    server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE: three statements), which for the
    few dozen staff or teams of a select costs more than it saves (about 0.5 ms each on the
    ticket page)."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ListedChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


class StaffChoiceField(ListedChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return display_name(obj)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        widget=FastSelect, required=False, choices=_blank(_("Any status")) + Status.choices
    )
    kind = forms.ChoiceField(
        widget=FastSelect, required=False, choices=_blank(_("Any kind")) + TicketKind.choices
    )
    priority = forms.ChoiceField(
        widget=FastSelect, required=False, choices=_blank(_("Any priority")) + Priority.choices
    )
    channel = forms.ChoiceField(
        widget=FastSelect, required=False, choices=_blank(_("Any channel")) + Channel.choices
    )
    sla = forms.ChoiceField(
        widget=FastSelect,
        required=False,
        choices=[("", _("Any SLA state")), ("warning", _("Due soon")), ("breached", _("Overdue"))],
    )
    sort = forms.ChoiceField(
        widget=FastSelect,
        required=False,
        choices=[("new", _("Newest first")), ("due", _("SLA due first"))],
    )
    q = forms.CharField(required=False, max_length=100, label=_("Search"))


class TicketCreateForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label=_("Organisation"), to_field_name="code"
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label=_("Contact")
    )
    contract = forms.ModelChoiceField(
        queryset=Contract.objects.none(), required=False, label=_("Contract")
    )
    service_line = forms.ChoiceField(
        required=False,
        choices=_blank(_("From the contract")) + ServiceLine.choices,
        label=_("Service line"),
    )
    kind = forms.ChoiceField(choices=TicketKind.choices, label=_("Kind"))
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, label=_("Priority")
    )
    severity = forms.ChoiceField(
        required=False, choices=_blank("—") + Severity.choices, label=_("Severity")
    )
    subject = forms.CharField(max_length=300, label=_("Subject"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label=_("Description")
    )

    def __init__(self, *args: Any, organisation: Organisation | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["organisation"].queryset = organisation_list().filter(is_active=True)
        # Picking the organisation reloads the form with its contacts and contracts.
        fields["organisation"].widget.attrs.update(
            {
                "hx-get": reverse("tickets:new"),
                "hx-trigger": "change",
                "hx-target": "#ticket-new-form",
                "hx-select": "#ticket-new-form",
                "hx-swap": "outerHTML",
                "hx-include": "#ticket-new-form .fld :is(input, select, textarea)",
            }
        )
        if organisation is not None:
            fields["contact"].queryset = contact_list(organisation=organisation)
            fields["contract"].queryset = contract_list(organisation=organisation)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("contract") and not data.get("service_line"):
            self.add_error(
                "service_line", _("Choose a contract or a service line, so the ticket is routed.")
            )
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label=_("Reply to customer"), strip=False
    )
    attachments = MultipleFileField(required=False, label=_("Attach files"))


class NoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Internal note"), strip=False
    )


class AssignForm(forms.Form):
    assignee = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Assignee"),
        empty_label=_("Nobody"),
        widget=FastSelect,
    )
    team = ListedChoiceField(
        queryset=Team.objects.none(),
        required=False,
        label=_("Team"),
        empty_label=_("Keep team"),
        widget=FastSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["assignee"].queryset = staff_list()
        fields["team"].queryset = Team.objects.order_by("name")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), widget=FastSelect)
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Comment")
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any):
        super().__init__(*args, **kwargs)
        allowed = STATUS_TRANSITIONS[Status(ticket.status)]
        choices = [("", "—")] + [(v, label) for v, label in Status.choices if v in allowed]
        field: Any = self.fields["status"]
        field.choices = choices
        # Validation of the move is the service's job: an out-of-date form may still post
        # any known status, and the service's answer is what the agent sees.
        field.valid_value = lambda value: value in Status.values


class FieldsForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"), widget=FastSelect)
    severity = forms.ChoiceField(
        required=False,
        choices=_blank("—") + Severity.choices,
        label=_("Severity"),
        widget=FastSelect,
    )
