"""Channels by name: adding a channel is one module and one ``@channel_register``."""

from __future__ import annotations

from collections.abc import Callable

from opsdesk.notify.channels.base import Channel

_CHANNELS: dict[str, Channel] = {}


def channel_register(name: str) -> Callable[[type], type]:
    def register(cls: type) -> type:
        _CHANNELS[name] = cls()
        return cls

    return register


def channel_get(name: str) -> Channel | None:
    return _CHANNELS.get(name)


def channel_names() -> list[str]:
    return sorted(_CHANNELS)
