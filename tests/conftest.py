from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.utils import translation


def require_server(available: bool, reason: str) -> None:
    """Skip when a real server is missing locally; in CI a missing server is a failure."""
    if available:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get(
        "OPSDESK_REQUIRE_SERVERS"
    ):
        pytest.fail(f"required server missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """Production hashing is slow on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Service-level tests read messages in English; requests still negotiate their own
    language through LocaleMiddleware (Korean by default), which the UI tests check."""
    with translation.override("en"):
        yield
