"""Helpers of the parsing layer that need no MIME tree walk: the caching header policy,
header-block repair, charset hints, defects, format=flowed and file-name hygiene; see
docs/subsystems/email.md."""

from __future__ import annotations

import functools
import re
from email import policy
from email.message import Message
from email.policy import EmailPolicy
from typing import Any

from opsdesk.intake.email.charsets import normalise_charset
from opsdesk.intake.email.headers import parse_params, raw_header

_CACHEABLE_HEADER = 4096
_PARAMETERISED = frozenset({"content-type", "content-disposition"})
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


class CachingPolicy(EmailPolicy):
    """policy.default, memoising parsed header objects.

    The feedparser asks for Content-Type several times per part and the modern header
    registry re-parses it every time (two thirds of parse time in profiles). Header objects
    are immutable, so identical (name, value) pairs can share one.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if len(value) > _CACHEABLE_HEADER:
            if name.lower() in _PARAMETERISED:
                # The stdlib parameter parser is superlinear; no real Content-Type is this
                # long. Our own parse_params() still reads the full raw value.
                return _fetch_header(name, value[:_CACHEABLE_HEADER])
            return policy.default.header_fetch_parse(name, value)  # not pinned in the cache
        return _fetch_header(name, value)


@functools.lru_cache(maxsize=4096)
def _fetch_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


MODERN_POLICY = CachingPolicy()


def repair_header_block(raw: bytes, defects: list[str]) -> bytes:
    """Drop junk lines (no colon, or a space in the name) that sit between real header lines.

    The stdlib would otherwise end the header block at the junk line and lose every header
    after it. A junk line with no valid header after it is left alone (it may be body text).
    """
    end = _HEADER_END.search(raw)
    block = raw[: end.start()] if end else raw
    lines = block.split(b"\n")
    valid = [bool(_HEADER_LINE.match(line)) or line[:1] in b" \t" for line in lines]
    if lines and lines[0].startswith(b"From "):
        valid[0] = True  # mbox separator, handled by the stdlib
    if all(valid):
        return raw
    last_valid = max((i for i, ok in enumerate(valid) if ok), default=-1)
    kept = [line for i, line in enumerate(lines) if valid[i] or i > last_valid]
    defects.append(f"{len(lines) - len(kept)} malformed header line(s) dropped")
    return b"\n".join(kept) + (raw[end.start() :] if end else b"")


def charset_hints(msg: Message) -> tuple[str, ...]:
    """Charsets declared in the message, used to decode raw 8-bit header bytes."""
    hints: list[str] = []
    for part in msg.walk():
        charset = parse_params(raw_header(part, "content-type"))[1].get("charset")
        codec = normalise_charset(charset)
        explicit_ascii = (charset or "").strip().lower() in {"us-ascii", "ascii"}
        if codec and codec != "utf-8" and not explicit_ascii and codec not in hints:
            hints.append(codec)
    return tuple(hints[:3])


def collect_stdlib_defects(msg: Message, defects: list[str]) -> None:
    seen = set(defects)
    for part in msg.walk():
        for defect in part.defects:
            text = f"{type(defect).__name__}: {defect}"[:200]
            if text not in seen:
                seen.add(text)
                defects.append(text)


def unflow(text: str) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (trailing space), undo space-stuffing."""
    out: list[str] = []
    buffer = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line[1:] if line.startswith(" ") else line
        if line.endswith(" ") and line != "-- ":
            buffer += line
        else:
            out.append(buffer + line)
            buffer = ""
    if buffer:
        out.append(buffer)
    return "\n".join(out)


def safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    name = _UNSAFE_NAME.sub("", re.split(r"[\\/]", name)[-1]).strip(" .")
    return name[:255] or None
