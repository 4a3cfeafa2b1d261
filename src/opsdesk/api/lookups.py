"""Rows named by public keys in a request body or query string."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opsdesk.core.errors import InvalidInput, NotFound

T = TypeVar("T")


def resolve(field: str, lookup: Callable[[], T]) -> T:
    """Run ``lookup``; an unknown key is a 422 on ``field``, not a 404 of the whole URL."""
    try:
        return lookup()
    except NotFound as exc:
        raise InvalidInput(exc.message, field=field) from exc
