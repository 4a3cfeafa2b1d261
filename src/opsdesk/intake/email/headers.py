"""Tolerant raw header decoding (RFC 2047, RFC 2231, 8-bit); see docs/subsystems/email.md."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from opsdesk.intake.email.charsets import decode_bytes, decode_surrogates

_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n")
_WS = re.compile(r"\s+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*?)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_MSG_ID = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_BARE_MSG_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")

_ADDR_SPEC = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_LOCAL_CHAR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")

MAX_ADDRESSES = 500
MAX_ADDRESS_LENGTH = 320  # RFC 5321 limits a path to 256 octets; leave room for sloppiness

# Dates outside this window are client clock bugs or junk; the caller uses the receive time.
MIN_YEAR = 1980
MAX_YEAR = 2200

Defects = list[str]


def raw_header(part: Message, name: str) -> str | None:
    """First raw value of a header (folding removed), or None; never parses or raises."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return unfold(str(value))
    return None


def raw_headers(part: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [unfold(str(v)) for k, v in part.raw_items() if k.lower() == wanted]


def unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def _decode_word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            text = text.strip()
            return base64.b64decode(text + "=" * (-len(text) % 4))
        data = text.replace("_", " ").encode("ascii", errors="surrogateescape")
        return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _split_words(value: str) -> list[tuple[str | None, bytes | str]]:
    """Split into (charset, bytes) for encoded words and (None, text) for literal runs."""
    out: list[tuple[str | None, bytes | str]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        literal = value[pos : match.start()]
        data = _decode_word_bytes(match.group(2), match.group(3))
        if data is None:  # undecodable word: keep it literally
            out.append((None, literal + match.group(0)))
        else:
            if literal and not (literal.isspace() and out and out[-1][0] is not None):
                out.append((None, literal))
            charset = match.group(1)
            prev = out[-1][1] if out and out[-1][0] == charset else None
            if isinstance(prev, bytes):
                out[-1] = (charset, prev + data)  # multi-byte chars split across words
            else:
                out.append((charset, data))
        pos = match.end()
    if pos < len(value):
        out.append((None, value[pos:]))
    return out


def decode_text(value: str | None, defects: Defects, *, hints: tuple[str, ...] = ()) -> str:
    """Decode an unstructured header (Subject, display names): encoded words and raw 8-bit."""
    if not value:
        return ""
    pieces: list[str] = []
    for charset, chunk in _split_words(unfold(value)):
        if isinstance(chunk, bytes):
            text, defect = decode_bytes(chunk, charset, hints=hints)
        else:
            text, defect = decode_surrogates(chunk, hints=hints)
        if defect:
            defects.append(f"header: {defect}")
        pieces.append(text)
    return _WS.sub(" ", "".join(pieces)).strip()


def _split_params(value: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


def parse_params(value: str | None) -> tuple[str, dict[str, str]]:
    """Split 'main; a=b; c*0*=...' into the lower-cased main value and raw parameter values.

    RFC 2231 continuations are joined; an extended (``*``) value keeps its ``charset'lang'``
    prefix and percent escapes, marked by a key ending in ``*``.
    """
    if not value:
        return "", {}
    head, *rest = _split_params(unfold(value))
    pieces: dict[str, dict[int, tuple[bool, str]]] = {}
    for item in rest:
        name, sep, val = item.partition("=")
        if not sep:
            continue
        name, val = name.strip().lower(), val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        extended = name.endswith("*")
        base, _, index = name.rstrip("*").partition("*")
        number = int(index) if index.isdigit() else 0
        pieces.setdefault(base, {}).setdefault(number, (extended, val))
    params: dict[str, str] = {}
    for base, parts in pieces.items():
        ordered = [parts[i] for i in sorted(parts)]
        is_ext = ordered[0][0]
        params[base + ("*" if is_ext else "")] = "".join(v for _, v in ordered)
    return head.strip().lower(), params


def param_text(
    params: dict[str, str], name: str, defects: Defects, *, hints: tuple[str, ...] = ()
) -> str | None:
    """Decode one parameter: RFC 2231 extended value, RFC 2047 words in quotes, or raw 8-bit."""
    extended = params.get(name + "*")
    if extended is not None:
        charset, _, rest = extended.partition("'")
        if rest:
            _lang, _, encoded = rest.partition("'")
        else:
            charset, encoded = "", extended
        raw = urllib.parse.unquote_to_bytes(encoded.encode("utf-8", "surrogateescape"))
        text, defect = decode_bytes(raw, charset or None, hints=hints)
        if defect:
            defects.append(f"parameter {name}: {defect}")
        return text
    value = params.get(name)
    if value is None:
        return None
    return decode_text(value, defects, hints=hints)


def parse_addresses(
    values: list[str], defects: Defects, *, hints: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """(decoded display name, lower-cased addr-spec) pairs; entries without an address dropped."""
    result: list[tuple[str, str]] = []
    try:
        pairs = getaddresses(values)
    except Exception as exc:  # stdlib address parsing bugs on hostile input
        defects.append(f"address list unparseable: {type(exc).__name__}")
        return result
    if len(pairs) > MAX_ADDRESSES:
        defects.append(f"{len(pairs)} addresses in one header; first {MAX_ADDRESSES} kept")
        pairs = pairs[:MAX_ADDRESSES]
    salvaged = False
    for name, addr in pairs:
        address, _ = decode_surrogates(addr.strip())
        if address and not _ADDR_SPEC.match(address):
            if salvaged:  # one salvage per header: garbage lists stay linear
                defects.append(f"malformed address kept as is: {address[:80]!r}")
            else:
                address, salvaged = _salvage_address(values, address, defects), True
        if not address:
            continue
        if len(address) > MAX_ADDRESS_LENGTH:
            defects.append(f"over-long address dropped ({len(address)} characters)")
            continue
        result.append((decode_text(name, defects, hints=hints), address.lower()))
    return result


def _salvage_address(values: list[str], address: str, defects: Defects) -> str:
    """For a garbled address ("a@x b@x", "x@@y"), fall back to the first addr-spec in the header."""
    for value in values:
        found = find_addresses(value, limit=1)
        if found:
            defects.append(f"malformed address {address[:80]!r} read as {found[0]!r}")
            return found[0]
    defects.append(f"malformed address kept as is: {address[:80]!r}")
    return address


def find_addresses(text: str, *, limit: int) -> list[str]:
    """addr-specs anywhere in free text, in order, lower-cased, unique.

    Scans outward from each "@" (local part at most 64 characters, domain at most 255) so
    that long runs without an address cost linear time, unlike a free-standing regex search.
    """
    found: list[str] = []
    for at in re.finditer("@", text):
        start = at.start()
        while start > 0 and at.start() - start < 64 and _LOCAL_CHAR.match(text, start - 1):
            start -= 1
        domain = _DOMAIN.match(text, at.end(), min(len(text), at.end() + 255))
        if start == at.start() or domain is None:
            continue
        address = (text[start : at.start()] + "@" + domain.group(0)).lower().strip(".")
        if address not in found:
            found.append(address)
            if len(found) >= limit:
                break
    return found


def parse_message_id(value: str | None, defects: Defects) -> str | None:
    if not value or not value.strip():
        return None
    match = _MSG_ID.search(value)
    if match:
        return match.group(1)
    bare = value.strip().strip("<>").strip()
    if _BARE_MSG_ID.match(bare):
        defects.append("message id without angle brackets")
        return bare
    defects.append(f"malformed message id skipped: {value[:80]!r}")
    return None


def parse_references(values: list[str], defects: Defects) -> list[str]:
    refs: list[str] = []
    for value in values:
        for token in re.findall(r"<[^<>]*>?", value):
            match = _MSG_ID.fullmatch(token)
            if match and match.group(1) not in refs:
                refs.append(match.group(1))
            elif not match:
                defects.append(f"malformed reference skipped: {token[:80]!r}")
    return refs


def parse_date(value: str | None, defects: Defects) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"unparseable date: {value[:80]!r}")
        return None
    if parsed.tzinfo is None:  # "-0000": time zone unknown, treat as UTC
        parsed = parsed.replace(tzinfo=UTC)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        defects.append(f"implausible date ignored: {value[:80]!r}")
        return None
    return parsed
