from __future__ import annotations

import os

import pytest


def require_server(available: bool, reason: str) -> None:
    """Skip when a real server is missing locally; in CI a missing server is a failure."""
    if available:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get(
        "OPSDESK_REQUIRE_SERVERS"
    ):
        pytest.fail(f"required server missing in CI: {reason}")
    pytest.skip(reason)
