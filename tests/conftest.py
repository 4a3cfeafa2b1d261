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


@pytest.fixture(autouse=True)
def _fresh_configuration_cache(settings: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's configuration rows are rolled back without signals, so the per-process
    configuration cache (core/configcache.py) starts empty for every test. And it checks its
    stamp on every use, so query counts do not depend on how fast a test runs; the
    interval itself is tested in tests/core/test_configcache.py."""
    from opsdesk.core.configcache import config_cache_clear

    settings.OPSDESK = {**settings.OPSDESK, "CONFIG_CACHE_SECONDS": 0}  # type: ignore[attr-defined]
    config_cache_clear()
    yield
    config_cache_clear()
