"""Label matchers for mapping rules and silences (pure, no ORM). See docs/subsystems/alerts.md.

Alertmanager's four operators: ``=`` (equal), ``!=`` (not equal), ``=~`` (regular expression,
matched against the whole value) and ``!~`` (regular expression must not match). A label
that is absent counts as the empty string, as in Alertmanager, so ``env=""`` matches alerts
without ``env`` and ``env!=""`` those that have one. Every matcher must match; an empty set
matches nothing.

Stored as ``[{"name": "env", "op": "=", "value": "prod"}, ...]``. ``matchers_parse`` also
takes Alertmanager's text form (``env="prod"``, ``instance=~"web-.*"``; a list, one per line,
or ``{a="1", b=~"2"}``), its API form (``{"name", "value", "isRegex", "isEqual"}``) and the
older mapping ``{"label": "exact" | "/regex/"}``, and raises ``MatcherError`` with the
position and a reason a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

OPERATORS = ("=", "!=", "=~", "!~")
REGEX_OPERATORS = ("=~", "!~")
MAX_MATCHERS = 50
MAX_VALUE = 1_000
# Label names: anything unambiguous (sources send dotted, dashed and slashed tag names).
NAME = re.compile(r"^[^\s=!~\"'{},]+$")
# name, operator, value (quoted with \" escapes, or bare up to a comma or brace)
TEXT = re.compile(r'^\s*([^\s=!~"\'{},]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,{}]*?)\s*$')


class MatcherError(ValueError):
    """A matcher that cannot be used, with where it is (``matchers[2]``) and why."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        where = f"matchers[{index}]: " if index is not None else ""
        super().__init__(where + message)
        self.index = index


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name) or ""
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        pattern = _pattern(self.value)
        found = pattern is not None and pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


@lru_cache(maxsize=1024)
def _pattern(expression: str) -> re.Pattern[str] | None:
    try:
        return re.compile(expression)
    except re.error:
        return None


def _matcher(name: Any, op: Any, value: Any, index: int | None) -> Matcher:
    if not isinstance(name, str) or not NAME.match(name):
        raise MatcherError(
            f"{name!r} is not a label name (no spaces, quotes, braces, commas or =!~)",
            index=index,
        )
    if op not in OPERATORS:
        raise MatcherError(f"unknown operator {op!r}; use =, !=, =~ or !~", index=index)
    if value is None or isinstance(value, dict | list | bool):
        raise MatcherError(f"the value of {name!r} must be text", index=index)
    text = str(value)
    if len(text) > MAX_VALUE:
        raise MatcherError(f"the value of {name!r} is longer than {MAX_VALUE}", index=index)
    if op in REGEX_OPERATORS:
        try:
            re.compile(text)
        except re.error as exc:
            raise MatcherError(
                f"{text!r} is not a valid regular expression: {exc}", index=index
            ) from exc
    return Matcher(name=name, op=op, value=text)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def matcher_from_text(text: str, index: int | None = None) -> Matcher:
    """``env="prod"``, ``env=prod``, ``instance=~"web-.*"``, ``severity!~"info|debug"``."""
    found = TEXT.match(text)
    if not found:
        raise MatcherError(
            f'cannot read {text!r}; write name="value" with =, !=, =~ or !~', index=index
        )
    name, op, value = found.groups()
    if not name:
        raise MatcherError(f"{text!r} has no label name before {op}", index=index)
    return _matcher(name, op, _unquote(value), index)


def _split_text(text: str) -> list[str]:
    """One matcher per line, or comma-separated (optionally inside {}); commas inside quotes
    belong to the value."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char in ",\n" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _from_item(item: Any, index: int) -> Matcher:
    if isinstance(item, str):
        return matcher_from_text(item, index)
    if isinstance(item, Mapping):
        if "op" in item:
            return _matcher(item.get("name"), item.get("op"), item.get("value"), index)
        # Alertmanager API v2: isRegex / isEqual (isEqual defaults to true).
        regex, equal = item.get("isRegex", False), item.get("isEqual", True)
        if not isinstance(regex, bool) or not isinstance(equal, bool):
            raise MatcherError("isRegex and isEqual must be true or false", index=index)
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~"}.get(
            (regex, equal), "!~"
        )
        return _matcher(item.get("name"), op, item.get("value"), index)
    raise MatcherError(
        'each matcher is a text like env="prod" or an object {"name", "op", "value"}',
        index=index,
    )


def matchers_parse(raw: Any) -> list[Matcher]:
    """Every accepted form → matchers; MatcherError for anything else or an empty set."""
    if isinstance(raw, str):
        raw = _split_text(raw)
    if isinstance(raw, Mapping):  # the older {"label": "value" | "/regex/"}
        parsed = []
        for index, (name, value) in enumerate(raw.items()):
            text = "" if value is None else str(value)
            if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
                parsed.append(_matcher(name, "=~", text[1:-1], index))
            else:
                parsed.append(_matcher(name, "=", value, index))
    elif isinstance(raw, Sequence):
        parsed = [_from_item(item, index) for index, item in enumerate(raw)]
    else:
        raise MatcherError("matchers must be a list")
    if not parsed:
        raise MatcherError("at least one label matcher is needed")
    if len(parsed) > MAX_MATCHERS:
        raise MatcherError(f"at most {MAX_MATCHERS} matchers")
    return parsed


def matchers_stored(raw: Any) -> list[dict[str, str]]:
    """The stored form of valid matchers (raises MatcherError otherwise)."""
    return [m.as_dict() for m in matchers_parse(raw)]


def matchers_readable(stored: Any) -> list[dict[str, str]]:
    """The stored matchers in their normal form for display; [] for a row an old version
    stored without any valid matcher (it matches nothing)."""
    try:
        return matchers_stored(stored)
    except MatcherError:
        return []


def matches_everything(matchers: Sequence[Matcher]) -> bool:
    """True when every matcher also matches an alert without labels (a silence like that
    would hide every alert; Alertmanager refuses it too)."""
    return all(m.matches({}) for m in matchers)


def matchers_text(stored: Any) -> str:
    """``env="prod", instance=~"web-.*"`` for screens; stored rows are valid already."""
    try:
        return ", ".join(str(m) for m in matchers_parse(stored))
    except MatcherError:
        return str(stored)


def labels_match(matchers: Any, labels: Mapping[str, str]) -> bool:
    """True when every stored matcher matches; an empty or unreadable set matches nothing."""
    return parsed_match(matchers_parsed(matchers), labels)


def matchers_parsed(stored: Any) -> tuple[Matcher, ...]:
    """Stored matchers, parsed once (for the ingest caches); () when unreadable, which
    matches nothing."""
    try:
        return tuple(matchers_parse(stored))
    except MatcherError:
        return ()


def parsed_match(parsed: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    """``labels_match`` for matchers parsed already; an empty set matches nothing."""
    return bool(parsed) and all(m.matches(labels) for m in parsed)
