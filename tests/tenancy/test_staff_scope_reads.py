"""A page reads the signed-in user's staff profile and team ids in one statement
(tenancy.selectors.staff_scope), and who may see agent pages is unchanged."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opsdesk.tenancy.models import StaffProfile
from tests.factories import make_staff, team

pytestmark = pytest.mark.django_db


def test_a_page_reads_the_signed_in_user_profile_and_teams_in_one_statement(client):
    agent = make_staff(team=team("service-operations"))
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:queue"))
    assert response.status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries]
    user_reads = [s for s in sqls if "FROM auth_user u" in s]
    assert len(user_reads) == 1 and "tenancy_staffprofile" in user_reads[0]
    assert not any(s.startswith('SELECT "tenancy_staffprofile"') for s in sqls)
    assert not any(s.startswith("SELECT team_id FROM") for s in sqls)


def test_a_deactivated_user_is_signed_out(client):
    agent = make_staff(team=team("service-operations"))
    client.force_login(agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(reverse("tickets:queue"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_user_without_a_staff_profile_signs_in_but_gets_no_agent_pages(client):
    plain = User.objects.create_user(username="customer-ish", password="pw-Strong-123")
    assert client.login(username="customer-ish", password="pw-Strong-123")
    assert not StaffProfile.objects.filter(user=plain).exists()
    assert client.get(reverse("tickets:queue")).status_code == 403
