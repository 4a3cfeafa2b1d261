"""Raw RFC 5322/MIME bytes to ParsedMessage, tolerant of bad mail; see docs/subsystems/email.md."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import io
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import Policy

from opsdesk.intake.email.charsets import decode_bytes
from opsdesk.intake.email.headers import (
    decode_text,
    param_text,
    parse_addresses,
    parse_date,
    parse_message_id,
    parse_params,
    parse_references,
    raw_header,
    raw_headers,
)
from opsdesk.intake.email.html import html_to_text, sanitise_html, sniff_html_charset
from opsdesk.intake.email.mimetools import (
    MODERN_POLICY,
    charset_hints,
    collect_stdlib_defects,
    repair_header_block,
    safe_filename,
    unflow,
)
from opsdesk.intake.email.outlook import MsgConversionError, is_ole2, msg_to_rfc822
from opsdesk.intake.email.results import (
    EnclosedMessage,
    InterestingHeaders,
    ParsedAttachment,
    ParsedMessage,
    UnparseableMessage,
)
from opsdesk.intake.email.spool import MARKER, Skeleton, SpooledPayload, spool_large_parts
from opsdesk.intake.email.tnef import is_tnef, unpack_tnef

MAX_DEPTH = 40
MAX_OUTLOOK_NESTING = 3  # an attached .msg inside an attached .msg … is opened this deep
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_REPORT_TYPES = {
    "message/delivery-status": "delivery_status",
    "message/global-delivery-status": "delivery_status",
    "message/feedback-report": "feedback_report",
    "message/disposition-notification": "disposition_notification",
}
_BOUNDARY_LINE = re.compile(rb"^--([^\s\"]{1,70}?)(?:--)?[ \t]*\r?$", re.M)
_BASE64_BLOCK = re.compile(rb"[A-Za-z0-9+/=\s]{16,}")
_EXTENSIONS = {"image/jpg": ".jpg", "image/pjpeg": ".jpg", "text/rfc822-headers": ".txt"}


@dataclass
class _Walk:
    """Mutable state while walking the MIME tree."""

    hints: tuple[str, ...]
    defects: list[str]
    policy: Policy
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    reports: dict[str, list[str]] = field(default_factory=dict)
    spooled: dict[str, SpooledPayload] = field(default_factory=dict)
    enclosed: list[EnclosedMessage] = field(default_factory=list)
    max_part_bytes: int | None = None
    nesting: int = 0


@dataclass(frozen=True, slots=True)
class _Part:
    """What one MIME part declares about itself."""

    content_type: str
    charset: str | None
    disposition: str
    filename: str | None
    content_id: str | None


def parse_message(
    raw: bytes, *, max_part_bytes: int | None = None, nesting: int = 0
) -> ParsedMessage:
    """Parse raw mail bytes (or an Outlook .msg); only hopeless input raises UnparseableMessage.

    Large attachments are decoded in chunks into temporary files (spool.py) instead of being
    held in memory; past ``max_part_bytes`` their bytes are counted, not kept (the size is
    still reported, ``complete`` is False). Call ``close()`` on the result to delete the
    temporary files early (garbage collection does it otherwise). ``nesting`` counts the
    attached Outlook messages this one is inside (they are opened up to MAX_OUTLOOK_NESTING).
    """
    if not isinstance(raw, bytes):
        raw = bytes(raw)
    if not raw or raw.isspace():  # (raw.strip() would copy a 100 MB mail)
        raise UnparseableMessage("empty message")
    source_format = "rfc822"
    if is_ole2(raw):
        try:
            raw = msg_to_rfc822(raw)
        except MsgConversionError as exc:
            raise UnparseableMessage(str(exc)) from exc
        source_format = "outlook-msg"
    try:
        return _parse(raw, MODERN_POLICY, [], source_format, (max_part_bytes, nesting))
    except UnparseableMessage:
        raise
    except Exception as exc:  # stdlib header-parser bugs on hostile input: retry leniently
        defects = [f"modern email policy failed ({type(exc).__name__}); parsed with compat32"]
    try:
        return _parse(raw, policy.compat32, defects, source_format, (max_part_bytes, nesting))
    except UnparseableMessage:
        raise
    except Exception as exc:
        raise UnparseableMessage(f"unparseable: {type(exc).__name__}: {exc}") from exc


def _parse(
    raw: bytes,
    pol: Policy,
    defects: list[str],
    source_format: str,
    limits: tuple[int | None, int],
) -> ParsedMessage:
    max_part_bytes = limits[0]
    stripped = raw.lstrip(b"\r\n\t ")
    if len(stripped) != len(raw):
        defects.append("leading blank lines removed")
    repaired = repair_header_block(stripped, defects)
    skeleton = spool_large_parts(repaired, max_part_bytes=max_part_bytes)
    if skeleton is not None:
        try:
            msg, walk = _parse_tree(skeleton.raw, pol, list(defects), skeleton, limits)
            return _build(msg, walk, source_format)
        except _SpoolMismatch:  # a spooled part did not come back out of the tree
            defects.append("large parts could not be separated; parsed in memory")
        except BaseException:
            skeleton.close()
            raise
    msg, walk = _parse_tree(repaired, pol, defects, None, limits)
    return _build(msg, walk, source_format)


class _SpoolMismatch(Exception):
    """The stdlib's tree did not contain every spooled part's marker."""


def _parse_tree(
    data: bytes,
    pol: Policy,
    defects: list[str],
    skeleton: Skeleton | None,
    limits: tuple[int | None, int],
) -> tuple[Message, _Walk]:
    msg = BytesParser(policy=pol).parsebytes(data)
    if not msg.keys():
        raise UnparseableMessage("no header block")
    walk = _Walk(hints=charset_hints(msg), defects=defects, policy=pol)
    walk.max_part_bytes, walk.nesting = limits
    if skeleton is not None:
        walk.spooled = dict(skeleton.parts)
        walk.defects.extend(skeleton.defects)
    _walk_part(msg, walk, depth=0)
    if walk.spooled and skeleton is not None:
        skeleton.close()
        raise _SpoolMismatch
    collect_stdlib_defects(msg, walk.defects)
    return msg, walk


def _describe(part: Message, walk: _Walk) -> _Part:
    ctype, params = parse_params(raw_header(part, "content-type"))
    if "/" not in ctype:
        if ctype:
            walk.defects.append(f"invalid content type {ctype[:60]!r}; treated as text/plain")
        ctype = "message/rfc822" if part.get_default_type() == "message/rfc822" else "text/plain"
    disposition, dparams = parse_params(raw_header(part, "content-disposition"))
    filename = param_text(dparams, "filename", walk.defects, hints=walk.hints) or param_text(
        params, "name", walk.defects, hints=walk.hints
    )
    cid = raw_header(part, "content-id")
    return _Part(
        content_type=ctype,
        charset=params.get("charset") or params.get("charset*"),
        disposition=disposition,
        filename=filename,
        content_id=cid.strip().strip("<>").strip() or None if cid else None,
    )


def _walk_part(part: Message, walk: _Walk, *, depth: int) -> None:
    if depth > MAX_DEPTH:
        walk.defects.append("MIME nesting too deep; deeper parts dropped")
        return
    info = _describe(part, walk)
    marker = raw_header(part, MARKER) if walk.spooled else None
    spooled = walk.spooled.pop(marker, None) if marker else None
    if spooled is not None:
        default = (
            f"message-{len(walk.attachments) + 1}.eml"
            if info.content_type.startswith("message/")
            else None
        )
        if _is_outlook_item(info, spooled.head(8)):
            _add_outlook_item(walk, info, spooled)
        else:
            _add_attachment(walk, info, spooled, default_name=default)
    elif info.content_type in _REPORT_TYPES:
        _add_report(part, info, walk)
    elif info.content_type.startswith("multipart/") and not part.is_multipart():
        _walk_broken_multipart(part, info, walk, depth=depth)
    elif info.content_type.startswith("message/") and part.is_multipart():
        _add_enclosed_message(part, info, walk)
    elif part.is_multipart():
        for child in _children(part):
            _walk_part(child, walk, depth=depth + 1)
    else:
        _walk_leaf(part, info, walk)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _boundary_candidates(part: Message, body: bytes) -> list[str]:
    declared = parse_params(raw_header(part, "content-type"))[1].get("boundary")
    found = [m.decode("ascii", "replace") for m in _BOUNDARY_LINE.findall(body[:65536])]
    candidates = [declared] if declared else []
    return [c for c in dict.fromkeys(candidates + found) if c and '"' not in c][:5]


def _walk_broken_multipart(part: Message, info: _Part, walk: _Walk, *, depth: int) -> None:
    """Multipart whose boundary the stdlib could not find: try the declared one, then sniff."""
    payload = part.get_payload()
    body = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    if not body.strip():
        return
    for boundary in _boundary_candidates(part, body):
        head = f'Content-Type: {info.content_type}; boundary="{boundary}"\r\n\r\n'.encode()
        reparsed = BytesParser(policy=walk.policy).parsebytes(head + body)
        children = _children(reparsed)
        if reparsed.is_multipart() and children:
            walk.defects.append(f"multipart boundary repaired: {boundary[:60]!r}")
            for child in children:
                _walk_part(child, walk, depth=depth + 1)
            return
    walk.defects.append("multipart without usable boundary; body kept as text")
    _add_body_text(body, _Part("text/plain", None, "", None, None), walk, flowed=False)


def _decoded_payload(part: Message, walk: _Walk) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # transfer-encoding decoders on corrupt data
        walk.defects.append(f"transfer encoding undecodable: {type(exc).__name__}")
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
    return payload if isinstance(payload, bytes) else b""


def _walk_leaf(part: Message, info: _Part, walk: _Walk) -> None:
    payload = _decoded_payload(part, walk)
    is_body = (
        info.content_type in {"text/plain", "text/html"}
        and info.disposition != "attachment"
        and not info.filename
    )
    if is_body:
        _add_body_text(payload, info, walk, flowed=_is_flowed(part))
    elif info.content_type in _TNEF_TYPES or (
        (info.filename or "").lower() == "winmail.dat" and is_tnef(payload)
    ):
        _add_tnef(payload, info, walk)
    elif _is_outlook_item(info, payload):
        _add_outlook_item(walk, info, payload)
    else:
        _add_attachment(walk, info, payload)


def _is_flowed(part: Message) -> bool:
    params = parse_params(raw_header(part, "content-type"))[1]
    return params.get("format", "").lower() == "flowed"


def _add_body_text(payload: bytes, info: _Part, walk: _Walk, *, flowed: bool) -> None:
    charset = info.charset
    if info.content_type == "text/html" and not charset:
        charset = sniff_html_charset(payload)
    text, defect = decode_bytes(payload, charset)
    if defect:
        walk.defects.append(f"{info.content_type} body: {defect}")
    if info.content_type == "text/html":
        walk.html.append(text)
    else:
        walk.plain.append(unflow(text) if flowed else text)


def _add_tnef(payload: bytes, info: _Part, walk: _Walk) -> None:
    content = unpack_tnef(payload, walk.defects)
    if content is None:  # undecodable: keep winmail.dat itself, nothing is lost
        _add_attachment(walk, info, payload, default_name="winmail.dat")
        return
    walk.defects.append(f"TNEF winmail.dat unpacked: {len(content.files)} file(s)")
    if not walk.plain and not walk.html:  # e.g. a top-level TNEF body (Outlook receipts)
        if content.body_text.strip():
            walk.plain.append(content.body_text)
        elif content.body_html.strip():
            walk.html.append(content.body_html)
    for item in content.files:
        ctype = mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
        tnef_info = _Part(ctype, None, "attachment", item.filename, None)
        _add_attachment(walk, tnef_info, item.payload)


def _is_outlook_item(info: _Part, head: bytes) -> bool:
    name = (info.filename or "").lower()
    outlook = name.endswith(".msg") or info.content_type == "application/vnd.ms-outlook"
    return outlook and is_ole2(head)


def _add_outlook_item(walk: _Walk, info: _Part, payload: bytes | SpooledPayload) -> None:
    """An attached Outlook .msg: kept as it is, and opened: its text is shown with the mail
    (``enclosed``) and its files join the mail's attachments."""
    _add_attachment(walk, info, payload)
    name = walk.attachments[-1].filename
    complete = not isinstance(payload, SpooledPayload) or payload.complete
    if walk.nesting >= MAX_OUTLOOK_NESTING or not complete:
        return
    data = payload.read() if isinstance(payload, SpooledPayload) else payload
    try:
        inner = parse_message(
            msg_to_rfc822(data), max_part_bytes=walk.max_part_bytes, nesting=walk.nesting + 1
        )
    except (MsgConversionError, UnparseableMessage) as exc:
        walk.defects.append(f"attached Outlook message {name} not opened: {exc}")
        return
    walk.enclosed.append(
        EnclosedMessage(
            filename=name,
            subject=inner.subject,
            from_address=inner.from_address,
            from_name=inner.from_name,
            date=inner.date,
            text_body=inner.text_body,
            attachment_names=tuple(inner.attachment_names),
        )
    )
    walk.enclosed.extend(inner.enclosed)
    walk.attachments.extend(
        dataclasses.replace(item, enclosed_in=item.enclosed_in or name)
        for item in inner.attachments
    )
    walk.defects.append(f"attached Outlook message {name} opened")


def _add_report(part: Message, info: _Part, walk: _Walk) -> None:
    if part.is_multipart():
        text = "\n\n".join(_report_block(block, walk) for block in _children(part))
    else:
        text, _ = decode_bytes(_decoded_payload(part, walk), info.charset)
    walk.reports.setdefault(_REPORT_TYPES[info.content_type], []).append(text)


def _report_block(block: Message, walk: _Walk) -> str:
    """One header block of a delivery-status body; some gateways base64-wrap the fields."""
    text = "\n".join(f"{k}: {v}" for k, v in block.raw_items())
    payload = _decoded_payload(block, walk)
    if payload.strip() and _BASE64_BLOCK.fullmatch(payload):
        with contextlib.suppress(binascii.Error, ValueError):
            payload = base64.b64decode(payload)
            walk.defects.append("base64-wrapped delivery-status fields decoded")
    if payload.strip():
        text += "\n" + decode_bytes(payload, None)[0]
    return text


def _add_enclosed_message(part: Message, info: _Part, walk: _Walk) -> None:
    """message/rfc822 (and other message/* containers) are kept whole as .eml attachments."""
    inner = _children(part)
    data = _serialise(inner[0], walk) if inner else b""
    name = info.filename or f"message-{len(walk.attachments) + 1}.eml"
    _add_attachment(walk, info, data, default_name=name)


def _serialise(msg: Message, walk: _Walk) -> bytes:
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(msg)
    except Exception as exc:  # generator on malformed enclosed headers
        walk.defects.append(f"enclosed message re-serialised lossily: {type(exc).__name__}")
        return str(msg.get_payload()).encode("utf-8", "surrogateescape")
    return buffer.getvalue()


def _add_attachment(
    walk: _Walk,
    info: _Part,
    payload: bytes | SpooledPayload,
    *,
    default_name: str | None = None,
) -> None:
    """The single point where attachment bytes (in memory or spooled) become attachments."""
    name = safe_filename(info.filename) or default_name
    if not name:
        ext = _EXTENSIONS.get(info.content_type) or mimetypes.guess_extension(info.content_type)
        ext = ext or (".txt" if info.content_type.startswith("text/") else ".bin")
        name = f"part-{len(walk.attachments) + 1}{ext}"
    inline = info.disposition == "inline" or (
        info.content_id is not None and info.disposition != "attachment"
    )
    spooled = payload if isinstance(payload, SpooledPayload) else None
    walk.attachments.append(
        ParsedAttachment(
            filename=name,
            content_type=info.content_type,
            size=spooled.size if spooled is not None else len(payload),  # type: ignore[arg-type]
            content_id=info.content_id,
            is_inline=inline,
            content=payload if isinstance(payload, bytes) else b"",
            spooled=spooled,
        )
    )


def _header_text(msg: Message, name: str, walk: _Walk) -> str | None:
    value = raw_header(msg, name)
    return None if value is None else decode_text(value, walk.defects, hints=walk.hints)


def _interesting(msg: Message, walk: _Walk) -> InterestingHeaders:
    def get(name: str) -> str | None:
        return _header_text(msg, name, walk)

    return InterestingHeaders(
        auto_submitted=get("Auto-Submitted"),
        precedence=get("Precedence"),
        x_autoreply=get("X-Autoreply"),
        x_autorespond=get("X-Autorespond"),
        x_auto_response_suppress=get("X-Auto-Response-Suppress"),
        list_id=get("List-Id"),
        list_unsubscribe=get("List-Unsubscribe"),
        return_path=get("Return-Path"),
        content_type=get("Content-Type"),
        report_type=parse_params(raw_header(msg, "content-type"))[1].get("report-type"),
    )


def _addresses(msg: Message, name: str, walk: _Walk) -> tuple[tuple[str, str], ...]:
    return tuple(parse_addresses(raw_headers(msg, name), walk.defects, hints=walk.hints))


def _build(msg: Message, walk: _Walk, source_format: str) -> ParsedMessage:
    senders = _addresses(msg, "From", walk) or _addresses(msg, "Sender", walk)
    if len(raw_headers(msg, "From")) > 1:
        walk.defects.append("several From headers; the first is used")
    html = "\n".join(walk.html) if walk.html else None
    text = "\n\n".join(t.strip("\r\n") for t in walk.plain) if walk.plain else ""
    if not text.strip() and html:
        text = html_to_text(html)
    reports = {key: "\n\n".join(values) for key, values in walk.reports.items()}
    return ParsedMessage(
        message_id=parse_message_id(raw_header(msg, "Message-ID"), walk.defects),
        in_reply_to=parse_message_id(raw_header(msg, "In-Reply-To"), walk.defects),
        references=tuple(parse_references(raw_headers(msg, "References"), walk.defects)),
        subject=_header_text(msg, "Subject", walk) or "",
        from_address=senders[0][1] if senders else None,
        from_name=senders[0][0] if senders else "",
        to=_addresses(msg, "To", walk),
        cc=_addresses(msg, "Cc", walk),
        reply_to=_addresses(msg, "Reply-To", walk),
        date=parse_date(raw_header(msg, "Date"), walk.defects),
        text_body=text.replace("\r\n", "\n"),
        html_body_sanitised=sanitise_html(html) if html is not None else None,
        attachments=tuple(walk.attachments),
        headers=_interesting(msg, walk),
        delivery_status=reports.get("delivery_status"),
        feedback_report=reports.get("feedback_report"),
        disposition_notification=reports.get("disposition_notification"),
        defects=tuple(dict.fromkeys(walk.defects)),
        source_format=source_format,
        enclosed=tuple(walk.enclosed),
    )
