"""FastSelect must produce what Django's template-rendered Select produces."""

from __future__ import annotations

import re

from django import forms

from opsdesk.core.widgets import FastSelect

CHOICES = [("", "—"), ("open", "Open & <b>ready</b>"), ("closed", '"Closed"'), (3, "Three")]


def _normalise(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_same_markup_as_django_select_including_escaping_and_selection():
    attrs = {"id": "id_status", "class": "x", "required": True, "disabled": False}
    for value in ("", "open", 3, None, "unknown"):
        plain = forms.Select(attrs=attrs, choices=CHOICES).render("status", value)
        fast = FastSelect(attrs=attrs, choices=CHOICES).render("status", value)
        assert _normalise(fast) == _normalise(plain)
    assert "&lt;b&gt;" in FastSelect(choices=CHOICES).render("s", "open")


def test_grouped_choices_fall_back_to_the_template_rendering():
    grouped = [("Group", [("a", "A"), ("b", "B")]), ("c", "C")]
    plain = forms.Select(choices=grouped).render("g", "b")
    assert _normalise(FastSelect(choices=grouped).render("g", "b")) == _normalise(plain)
