"""The ticket page's selects read their choices with one plain query each."""

from __future__ import annotations

import pytest
from django.db import connection

from opsdesk.tickets.forms import AssignForm
from tests.factories import make_staff, team

pytestmark = pytest.mark.django_db


def test_assignment_selects_need_no_server_side_cursor(monkeypatch):
    agent = make_staff(team=team("service-operations"))

    def refused(*args, **kwargs):
        # Django's iterator() asks for this; on PostgreSQL it is DECLARE, FETCH and CLOSE.
        raise AssertionError("a chunked (server-side) cursor was asked for")

    monkeypatch.setattr(connection, "chunked_cursor", refused)
    form = AssignForm()
    html = str(form["assignee"]) + str(form["team"])
    assert f'value="{agent.pk}"' in html
    assert f'value="{team("service-operations").pk}"' in html
