"""Fake providers for the Teams, Naver SENS and KakaoTalk channels, each on 127.0.0.1 and
set up in the settings the channels read."""

from __future__ import annotations

import pytest

from tests.notify.fake_kakao import APP, SECRET, SENDER, TEMPLATE, KakaoRule
from tests.notify.fake_sens import ACCESS, SERVICE, sens_rule
from tests.notify.fake_sens import SECRET as SENS_SECRET
from tests.notify.fake_teams import teams_rule
from tests.notify.fakes import fake_provider


@pytest.fixture
def teams(settings):
    with fake_provider(teams_rule) as server:
        settings.OPSDESK_TEAMS_WEBHOOK_HOSTS = ["127.0.0.1"]
        yield server


@pytest.fixture
def sens(settings):
    with fake_provider(sens_rule) as server:
        settings.OPSDESK_SENS_BASE_URL = server.base_url
        settings.OPSDESK_SENS_SERVICE_ID = SERVICE
        settings.OPSDESK_SENS_ACCESS_KEY = ACCESS
        settings.OPSDESK_SENS_SECRET_KEY = SENS_SECRET
        settings.OPSDESK_SENS_FROM = "02-0000-0001"
        yield server


@pytest.fixture
def kakao(settings):
    with fake_provider(KakaoRule()) as server:
        settings.OPSDESK_KAKAO_BASE_URL = server.base_url
        settings.OPSDESK_KAKAO_APP_KEY = APP
        settings.OPSDESK_KAKAO_SECRET_KEY = SECRET
        settings.OPSDESK_KAKAO_SENDER_KEY = SENDER
        settings.OPSDESK_KAKAO_TEMPLATE_CODE = TEMPLATE
        settings.OPSDESK_KAKAO_RESEND = False
        settings.OPSDESK_KAKAO_RESEND_SEND_NO = "02-0000-0001"
        yield server
