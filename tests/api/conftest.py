from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from opsdesk.api.services import api_token_create
from tests.factories import make_staff, team


class ApiClient:
    """The Django test client with a bearer token and JSON bodies. It asks for English so
    tests can read error messages; without the header the site default (Korean) answers."""

    def __init__(self, token: str | None, language: str = "en") -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        if language:
            self.headers["Accept-Language"] = language

    def get(self, path: str, **params: Any):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any):
        return self.client.post(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any):
        return self.client.patch(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )


def client_for(user) -> ApiClient:
    _token, raw = api_token_create(user=user, name="test")
    return ApiClient(raw)


@pytest.fixture
def ops_agent():
    return make_staff(team=team("service-operations"))


@pytest.fixture
def api(ops_agent) -> ApiClient:
    return client_for(ops_agent)
