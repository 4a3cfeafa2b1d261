"""Forms of the agent UI for customers and the signed-in staff member."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OrganisationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Search"))


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Token name"))


class TokenRevokeForm(forms.Form):
    token_id = forms.IntegerField(min_value=1)
