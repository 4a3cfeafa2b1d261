"""The only module that reads the process environment (docs/architecture.md, "Configuration")."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ENV_PREFIX = "OPSDESK_"


def get_str(name: str, default: str = "") -> str:
    return os.environ.get(ENV_PREFIX + name, default)


def get_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: T, convert: Callable[[str], T], what: str) -> T:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name} must be {what}, got {raw!r}") from exc


def get_int(name: str, default: int) -> int:
    return _number(name, default, int, "a whole number")


def get_float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """Where the embedded (SQLite) set-up keeps its database, uploads and secret key."""
    raw = os.environ.get(ENV_PREFIX + "DATA_DIR")
    path = Path(raw) if raw else Path.cwd() / "data"
    return path.resolve()


def is_ci() -> bool:
    """CI turns 'server absent' skips into failures."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
