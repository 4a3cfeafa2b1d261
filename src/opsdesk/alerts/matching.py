"""Label matchers for mapping rules and silences (pure, no ORM). See docs/subsystems/alerts.md.

``{"env": "prod", "instance": "/web-.*/"}``: every label must match; a value written
between slashes is a regular expression matched against the whole label value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=512)
def _pattern(expression: str) -> re.Pattern[str] | None:
    try:
        return re.compile(expression)
    except re.error:
        return None


def value_matches(expected: Any, actual: str | None) -> bool:
    if actual is None:
        return False
    text = str(expected)
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        pattern = _pattern(text[1:-1])
        return pattern is not None and pattern.fullmatch(actual) is not None
    return text == actual


def labels_match(matchers: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches; an empty matcher set matches nothing."""
    if not matchers:
        return False
    return all(value_matches(expected, labels.get(name)) for name, expected in matchers.items())
