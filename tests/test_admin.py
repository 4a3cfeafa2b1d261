from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from opsdesk.tenancy.enums import StaffRole
from tests.factories import make_contact, make_contract, make_org, make_staff, make_ticket

pytestmark = pytest.mark.django_db


def test_every_admin_page_renders_for_an_administrator(client):
    admin_user = make_staff(staff_role=StaffRole.ADMIN)
    org = make_org(domains=("acme.example",), phones=("02-0000-0001",))
    make_contact(org, phones=("010-0000-0001",))
    make_contract(org)
    ticket = make_ticket(org)
    client.force_login(admin_user)
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    detail = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    response = client.get(detail)
    assert response.status_code == 200
    assert ticket.reference in response.content.decode()
    # Tickets are read-only in the admin: a POST cannot bypass the timeline.
    assert client.post(detail, {"subject": "x"}).status_code == 403
