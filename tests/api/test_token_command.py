from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.api.conftest import ApiClient
from tests.factories import make_staff, team

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_only_a_working_token_then_list_and_revoke():
    agent = make_staff(team=team("service-operations"))
    raw = _run("create", agent.username, "--name", "cti").strip()
    assert raw.startswith("odk_") and "\n" not in raw
    client = ApiClient(raw)
    assert client.get("/tickets").status_code == 200
    listing = _run("list", agent.username)
    token = agent.api_tokens.get()
    assert f"{token.pk}\t" in listing and "cti" in listing and "active" in listing
    assert raw not in listing
    _run("revoke", agent.username, str(token.pk))
    assert "revoked" in _run("list", agent.username)
    assert client.get("/tickets").status_code == 401
    with pytest.raises(CommandError):
        _run("revoke", agent.username, str(token.pk))


def test_unknown_and_non_staff_users_are_refused():
    User.objects.create_user(username="outsider", password="pw-Strong-123")
    with pytest.raises(CommandError, match="No user"):
        _run("create", "ghost")
    with pytest.raises(CommandError, match="not active support-centre staff"):
        _run("create", "outsider")
