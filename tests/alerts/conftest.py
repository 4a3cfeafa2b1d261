from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from opsdesk.alerts.models import Integration
from opsdesk.alerts.selectors import integration_cache_clear
from opsdesk.alerts.services import integration_create
from opsdesk.alerts.sources import sns
from opsdesk.tenancy.models import Organisation
from tests.conftest import require_server
from tests.factories import make_org

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "alerts"


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.exists():
        require_server(False, f"monitoring corpus missing: {path}")
    return path.read_bytes()


def corpus_json(name: str) -> Any:
    return json.loads(corpus_bytes(name))


def webhook(integration: Integration, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST a body (bytes as is, anything else as JSON) to the integration's URL.

    Timeline texts are written in the request's language (the site default, Korean, for a
    monitoring system); tests ask for English so they can read them.
    """
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Client().post(
        f"/api/v1/integrations/{integration.kind}/{integration.token}/",
        raw,
        content_type="application/json",
        headers={"Accept-Language": "en", **(headers or {})},
    )


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """Each test starts with this process's integration and certificate caches empty."""
    integration_cache_clear()
    sns.cache_clear()
    yield
    integration_cache_clear()
    sns.cache_clear()


@pytest.fixture
def org() -> Organisation:
    return make_org("Hanbit Cloud Customer")


@pytest.fixture
def make_integration(org: Organisation) -> Callable[..., Integration]:
    def make(kind: str, **kwargs: Any) -> Integration:
        kwargs.setdefault("organisation", org)
        kwargs.setdefault("verify_signature", False)
        return integration_create(kind=kind, name=f"{kind} monitoring", **kwargs)

    return make
