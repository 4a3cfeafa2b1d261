"""The new channels as people's contact methods: an escalation at 23:00 reaches the on-call
engineer by Teams card, SENS SMS and KakaoTalk AlimTalk at once, each a delivery record with
the provider's id, and the Teams card's button is the signed acknowledgement link."""

from __future__ import annotations

import json
import urllib.parse
from datetime import date

import pytest
from django.test import Client

from opsdesk.core.clock import frozen_at
from opsdesk.core.errors import InvalidInput
from opsdesk.notify.models import Delivery
from opsdesk.oncall.services import (
    contact_method_set,
    escalation_start,
    notification_rule_add,
    policy_create,
)
from tests.factories import make_org, make_staff, make_ticket, team
from tests.notify.fake_teams import flow_url
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

CHANNELS = ("teams", "sens_sms", "kakao_alimtalk")


def test_an_escalation_reaches_the_engineer_on_every_new_channel(teams, sens, kakao):
    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    weekly_oncall(support, [engineer], start=date(2026, 11, 30))
    policy_create(name="nights", team=support, steps=[{"kind": "notify_oncall"}])
    contact_method_set(user=engineer, channel="teams", address=flow_url(teams.base_url))
    contact_method_set(user=engineer, channel="sens_sms", address="010-0000-0001")
    contact_method_set(user=engineer, channel="kakao_alimtalk", address="010-0000-0001")
    for channel in CHANNELS:
        notification_rule_add(user=engineer, channel=channel)
    ticket = make_ticket(make_org(), subject="DB down", technical_team=support)

    with frozen_at(seoul(2026, 12, 6, 23)):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB down")
        drain()

    sent = {d.channel: d for d in Delivery.objects.filter(user=engineer)}
    assert sorted(sent) == sorted(CHANNELS)
    assert {d.status for d in sent.values()} == {"sent"}
    assert sent["teams"].provider_id == "08584700000000000000000000000CU01"
    assert sent["sens_sms"].provider_id.startswith("RSSA-")
    assert sent["kakao_alimtalk"].provider_id == "20261206090000abcDEF01:1"
    assert escalation is not None

    card = json.loads(teams.requests[0].body)["attachments"][0]["content"]
    [button] = card["actions"]
    assert button["type"] == "Action.OpenUrl" and button["url"] == sent["teams"].url
    client = Client()
    client.force_login(engineer)
    page = client.get(urllib.parse.urlsplit(button["url"]).path)
    assert page.status_code == 200  # the confirm page; a GET never acknowledges


def test_unknown_channels_are_refused_as_contact_methods():
    with pytest.raises(InvalidInput):
        contact_method_set(user=make_staff(), channel="pager", address="1")
