"""Large MIME leaf parts decoded in chunks to temporary files before the stdlib parser sees
the mail; see docs/subsystems/email.md ("Large attachments").

The stdlib parser holds a part's body as text lines, then as one string, then encoded, then
decoded: a 50 MB attachment cost ~550 MB of Python memory. Here the raw bytes are split along
the MIME structure with ``bytes.find`` (no copies), each large attachment body is decoded
1 MB at a time into a temporary file (hashing as it goes), and the stdlib parser only sees a
*skeleton*: the same mail with those bodies cut out and a marker header in their place.

The split follows the stdlib feedparser's rules: a header block ends at the first empty line;
a multipart's children lie between lines ``--boundary`` (optionally followed by ``--`` and
blanks); the line break before a delimiter belongs to the delimiter. Whatever it does not
understand (no boundary found, odd transfer encodings, bodies, TNEF) is left in place for the
stdlib parser, and parsing.py re-parses in memory if a marker does not come back out of the
stdlib's tree, so the worst case is the old in-memory path, never a lost part.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from typing import IO

SPOOL_MESSAGE_BYTES = 128 * 1024  # smaller mail goes to the stdlib parser alone
SPOOL_PART_BYTES = 64 * 1024  # encoded body size from which an attachment is decoded here
# Decoding here is also ~3x cheaper in CPU than the stdlib's line-by-line payload handling,
# so mid-size parts are decoded into memory (no file) within a per-mail budget; the rest go
# to temporary files.
MEMORY_PART_BYTES = 2 * 1024 * 1024
MEMORY_BUDGET_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
MARKER = "X-OpsDesk-Spooled"
MAX_DEPTH = 40

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n[ \t]+")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64 = bytes(b for b in range(256) if b not in _BASE64_ALPHABET)
_IDENTITY = frozenset({"", "7bit", "8bit", "binary"})
_DECODABLE = _IDENTITY | {"base64", "quoted-printable"}
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_KEPT_IN_MEMORY = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass
class SpooledPayload:
    """A decoded part body in a temporary file (deleted when closed or garbage-collected).

    ``size`` is the full decoded size; past ``max_bytes`` the bytes are counted but not kept
    (``complete`` is then False and ``file`` None), so an oversized log costs no disk either.
    """

    file: IO[bytes] | None
    size: int = 0
    sha256: str = ""
    complete: bool = True

    def read(self) -> bytes:
        if self.file is None:
            return b""
        self.file.seek(0)
        # read(size), not read(): after head() the buffered reader would join what it still
        # buffers with the rest, holding the content twice for a moment.
        return self.file.read(self.size)

    def head(self, count: int) -> bytes:
        if self.file is None:
            return b""
        self.file.seek(0)
        return self.file.read(count)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@dataclass
class Skeleton:
    """The mail with spooled bodies cut out; ``parts`` maps marker values to payloads."""

    raw: bytes
    parts: dict[str, SpooledPayload] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)

    def close(self) -> None:
        for payload in self.parts.values():
            payload.close()


@dataclass
class _Split:
    raw: bytes
    max_part_bytes: int | None
    nonce: str
    cuts: list[tuple[int, int, bytes]] = field(default_factory=list)
    parts: dict[str, SpooledPayload] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    memory_left: int = MEMORY_BUDGET_BYTES


@dataclass(frozen=True, slots=True)
class _Entity:
    start: int
    header_end: int  # where the empty line after the header block begins
    body_start: int
    end: int
    headers: dict[str, str]


def spool_large_parts(raw: bytes, *, max_part_bytes: int | None = None) -> Skeleton | None:
    """Spool the large attachment bodies of ``raw``; None when there is nothing to spool."""
    if len(raw) < SPOOL_MESSAGE_BYTES:
        return None
    split = _Split(raw=raw, max_part_bytes=max_part_bytes, nonce=secrets.token_hex(8))
    try:
        _visit(split, 0, len(raw), depth=0)
    except Exception:  # a bug here must never cost the mail: fall back to the stdlib alone
        for payload in split.parts.values():
            payload.close()
        return None
    if not split.cuts:
        return None
    pieces: list[bytes | memoryview] = []
    view = memoryview(raw)
    position = 0
    for start, end, replacement in sorted(split.cuts):
        pieces += [view[position:start], replacement]
        position = end
    pieces.append(view[position:])
    return Skeleton(raw=b"".join(pieces), parts=split.parts, defects=split.defects)


def _entity(raw: bytes, start: int, end: int) -> _Entity | None:
    if raw.startswith((b"\r\n", b"\n"), start, end):
        return None  # no header block: a default text/plain part, never spooled
    match = _HEADER_END.search(raw, start, end)
    if match is None:
        return None
    block = raw[start : match.start()].decode("latin-1")
    headers: dict[str, str] = {}
    for line in _FOLD.sub(" ", block).splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return _Entity(start, match.start(), match.end(), end, headers)


def _main_and_params(value: str) -> tuple[str, dict[str, str]]:
    head, *rest = value.split(";")
    params = {}
    for item in rest:
        name, sep, val = item.partition("=")
        if sep:
            params[name.strip().lower()] = val.strip().strip('"')
    return head.strip().lower(), params


def _visit(split: _Split, start: int, end: int, *, depth: int) -> None:
    entity = _entity(split.raw, start, end)
    if entity is None or depth > MAX_DEPTH:
        return
    ctype, params = _main_and_params(entity.headers.get("content-type", "text/plain"))
    if ctype.startswith("multipart/"):
        boundary = params.get("boundary")
        if boundary:
            for child_start, child_end in _children(split.raw, entity, boundary.encode("latin-1")):
                _visit(split, child_start, child_end, depth=depth + 1)
        return
    if _spoolable(entity, ctype):
        _spool(split, entity)


def _children(raw: bytes, entity: _Entity, boundary: bytes) -> list[tuple[int, int]]:
    """(start, end) of each child between the delimiter lines, as the feedparser splits them."""
    delimiter = b"--" + boundary
    lines: list[tuple[int, int, bool]] = []  # (line start, next line start, is the close line)
    cursor = entity.body_start
    while True:
        found = raw.find(delimiter, cursor, entity.end)
        if found < 0:
            break
        cursor = found + len(delimiter)
        at_line_start = found == entity.body_start or raw[found - 1] in b"\r\n"
        closing = raw.startswith(b"--", cursor, entity.end)
        rest = cursor + 2 if closing else cursor
        line_end = raw.find(b"\n", rest, entity.end)
        line_end = entity.end if line_end < 0 else line_end + 1
        if at_line_start and not raw[rest:line_end].strip(b" \t\r\n"):
            lines.append((found, line_end, closing))
            if closing:
                break
    children = []
    for (_, child_start, closing), following in zip(lines, [*lines[1:], None], strict=True):
        if closing:
            break
        child_end = _before_line_break(raw, following[0]) if following else entity.end
        children.append((child_start, max(child_start, child_end)))
    return children


def _before_line_break(raw: bytes, position: int) -> int:
    if raw.startswith(b"\r\n", position - 2, position):
        return position - 2
    if raw.startswith(b"\n", position - 1, position):
        return position - 1
    return position


def _spoolable(entity: _Entity, ctype: str) -> bool:
    if entity.end - entity.body_start < SPOOL_PART_BYTES:
        return False
    cte = entity.headers.get("content-transfer-encoding", "").strip().lower()
    disposition = entity.headers.get("content-disposition", "").lower()
    type_params = _main_and_params(entity.headers.get("content-type", ""))[1]
    named = "filename" in disposition or any(k.startswith("name") for k in type_params)
    is_body = ctype in _BODY_TYPES and not disposition.startswith("attachment") and not named
    if is_body or ctype in _KEPT_IN_MEMORY or "winmail.dat" in disposition:
        return False
    if ctype.startswith("message/") and ctype != "message/rfc822":
        return False  # delivery reports are read as text
    return cte in _DECODABLE


def _spool(split: _Split, entity: _Entity) -> None:
    cte = entity.headers.get("content-transfer-encoding", "").strip().lower()
    body_end = entity.end
    body = memoryview(split.raw)[entity.body_start : body_end]
    estimate = len(body) * 3 // 4 if cte == "base64" else len(body)
    in_memory = estimate <= min(MEMORY_PART_BYTES, split.memory_left)
    if in_memory:
        split.memory_left -= estimate
    payload = _decode_into_file(split, body, cte, _Sink(split.max_part_bytes, in_memory))
    key = f"{split.nonce}-{len(split.parts)}"
    split.parts[key] = payload
    # The header block stays; the body is replaced by nothing and a marker header names it.
    marker = f"\r\n{MARKER}: {key}\r\n\r\n".encode()
    split.cuts.append((entity.header_end, body_end, marker))


class _Sink:
    """Writes decoded chunks to a temporary file (or memory) up to ``limit``, then only
    counts them."""

    def __init__(self, limit: int | None, in_memory: bool) -> None:
        self.limit = limit
        self.file: IO[bytes] | None = None
        if limit != 0:
            # The file outlives this call: it is the parsed attachment's content.
            self.file = io.BytesIO() if in_memory else tempfile.TemporaryFile()  # noqa: SIM115
        self.size = 0
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.file is None:
            return
        if self.limit is not None and self.size > self.limit:
            self.file.close()
            self.file = None
            return
        self.digest.update(data)
        self.file.write(data)

    def result(self) -> SpooledPayload:
        complete = self.file is not None
        if self.file is not None:
            self.file.flush()
        return SpooledPayload(
            file=self.file,
            size=self.size,
            sha256=self.digest.hexdigest() if complete else "",
            complete=complete,
        )


def _decode_into_file(split: _Split, body: memoryview, cte: str, sink: _Sink) -> SpooledPayload:
    if cte == "base64":
        _decode_base64(body, sink, split.defects)
    elif cte == "quoted-printable":
        _decode_qp(body, sink)
    else:
        for offset in range(0, len(body), CHUNK_BYTES):
            sink.write(bytes(body[offset : offset + CHUNK_BYTES]))
    return sink.result()


def _decode_base64(body: memoryview, sink: _Sink, defects: list[str]) -> None:
    # Everything outside the alphabet (line breaks, blanks, padding, junk) is dropped, as the
    # stdlib's lenient decoder does; the rest is decoded in multiples of four characters.
    carry = b""
    for offset in range(0, len(body), CHUNK_BYTES):
        data = carry + bytes(body[offset : offset + CHUNK_BYTES]).translate(None, _NOT_BASE64)
        usable = len(data) - len(data) % 4
        sink.write(binascii.a2b_base64(data[:usable]))
        carry = data[usable:]
    if len(carry) == 1:
        defects.append("base64 attachment ends with a stray character; ignored")
    elif carry:
        sink.write(binascii.a2b_base64(carry + b"=" * (4 - len(carry))))


def _decode_qp(body: memoryview, sink: _Sink) -> None:
    # Cut only after a line break, so a soft break ("=" at a line end) is never split.
    carry = b""
    for offset in range(0, len(body), CHUNK_BYTES):
        data = carry + bytes(body[offset : offset + CHUNK_BYTES])
        cut = data.rfind(b"\n") + 1
        sink.write(binascii.a2b_qp(data[:cut]))
        carry = data[cut:]
    if carry:
        sink.write(binascii.a2b_qp(carry))
