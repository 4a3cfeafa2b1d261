"""Outlook .msg (OLE2 compound file) conversion to RFC 822 bytes; see docs/subsystems/email.md."""

from __future__ import annotations

import io
import re
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import HeaderParser
from email.policy import compat32

import olefile

from opsdesk.intake.email.charsets import decode_bytes
from opsdesk.intake.email.html import sniff_html_charset
from opsdesk.intake.email.rtf import compressed_rtf_text

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ATTACH = re.compile(r"^__attach_version1\.0_#[0-9A-Fa-f]{8}$")
_SKIPPED_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})
# An attachment whose data is a storage, not a stream: an Outlook item (a mail forwarded as
# an attachment) or another OLE object.
_EMBEDDED = "__substg1.0_3701000D"
_MESSAGE_MARKERS = ("__substg1.0_0037001F", "__substg1.0_0037001E", "__substg1.0_007D001F")
MAX_EMBEDDED_DEPTH = 3  # an item in an item in an item; deeper ones are left out


class MsgConversionError(Exception):
    """The OLE2 file is not a readable Outlook message."""


def is_ole2(raw: bytes) -> bool:
    return raw[:8] == OLE2_MAGIC


def _stream(ole: olefile.OleFileIO, path: str) -> bytes | None:
    return ole.openstream(path).read() if ole.exists(path) else None


def _prop_text(ole: olefile.OleFileIO, prefix: str, prop: str) -> str | None:
    """A string property: UTF-16 (…001F) or 8-bit (…001E)."""
    unicode = _stream(ole, f"{prefix}__substg1.0_{prop}001F")
    if unicode is not None:
        return unicode.decode("utf-16-le", errors="replace").rstrip("\x00")
    legacy = _stream(ole, f"{prefix}__substg1.0_{prop}001E")
    return decode_bytes(legacy, None)[0].rstrip("\x00") if legacy is not None else None


def _body(ole: olefile.OleFileIO, prefix: str) -> MIMEMultipart:
    body = MIMEMultipart("alternative")
    text = _prop_text(ole, prefix, "1000") or ""
    html_bytes = _stream(ole, prefix + "__substg1.0_10130102")
    rtf = _stream(ole, prefix + "__substg1.0_10090102")  # PR_RTF_COMPRESSED
    if not text.strip() and not html_bytes and rtf:  # a rich-text-only Outlook message
        text = compressed_rtf_text(rtf)
    body.attach(MIMEText(text, "plain", "utf-8"))
    if html_bytes:
        html, _ = decode_bytes(html_bytes, sniff_html_charset(html_bytes))
        body.attach(MIMEText(html, "html", "utf-8"))
    return body


def _attachment_storages(ole: olefile.OleFileIO, prefix: str) -> list[str]:
    """The attachment storages directly inside ``prefix`` (the message root or an item)."""
    base = prefix.rstrip("/").split("/") if prefix else []
    depth = len(base)
    return sorted(
        {
            entry[depth]
            for entry in ole.listdir()
            if len(entry) > depth + 1 and entry[:depth] == base and _ATTACH.match(entry[depth])
        }
    )


def _attachments(ole: olefile.OleFileIO, prefix: str, depth: int) -> list[MIMEBase]:
    parts: list[MIMEBase] = []
    for index, storage in enumerate(_attachment_storages(ole, prefix), start=1):
        attachment = f"{prefix}{storage}/"
        name = _prop_text(ole, attachment, "3707") or _prop_text(ole, attachment, "3704")
        data = _stream(ole, attachment + "__substg1.0_37010102")
        if data is None:
            item = _embedded_item(ole, attachment, name, depth)
            if item is not None:
                parts.append(item)
            continue
        part = MIMEApplication(data)
        mime = _prop_text(ole, attachment, "370E")
        if mime and "/" in mime:
            part.replace_header("Content-Type", mime)
        content_id = _prop_text(ole, attachment, "3712")
        disposition = "inline" if content_id else "attachment"  # cid: images of the HTML body
        part.add_header(
            "Content-Disposition", disposition, filename=("utf-8", "", name or f"part-{index}")
        )
        if content_id:
            part.add_header("Content-ID", f"<{content_id}>")
        parts.append(part)
    return parts


def _embedded_item(
    ole: olefile.OleFileIO, attachment: str, name: str | None, depth: int
) -> MIMEMessage | None:
    """An Outlook item attached to the message (a mail forwarded as an attachment): kept as a
    message/rfc822 part, so it becomes an .eml attachment with its own text and files. Other
    embedded OLE objects have no message properties and no portable form: left out."""
    inner = attachment + _EMBEDDED + "/"
    if depth >= MAX_EMBEDDED_DEPTH or not any(ole.exists(inner + m) for m in _MESSAGE_MARKERS):
        return None
    item = MIMEMessage(_message(ole, inner, depth + 1))
    title = name or _prop_text(ole, inner, "0037") or "message"
    filename = re.sub(r"\.msg$", "", title, flags=re.IGNORECASE) + ".eml"
    item.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return item


def _copy_headers(ole: olefile.OleFileIO, prefix: str, message: MIMEMultipart) -> None:
    transport = _prop_text(ole, prefix, "007D") or ""
    headers = HeaderParser(policy=compat32).parsestr(transport, headersonly=True)
    for name, value in headers.items():
        if name.lower() not in _SKIPPED_HEADERS:
            message[name] = value
    if "Subject" not in message:
        message["Subject"] = Header(_prop_text(ole, prefix, "0037") or "", "utf-8").encode()
    if "From" not in message:
        sender = _prop_text(ole, prefix, "0C1F") or _prop_text(ole, prefix, "5D01") or ""
        name = _prop_text(ole, prefix, "0C1A") or ""
        if sender or name:  # an unsent draft or a saved item has neither
            message["From"] = f"{Header(name, 'utf-8').encode()} <{sender}>"


def _message(ole: olefile.OleFileIO, prefix: str, depth: int) -> MIMEMultipart:
    message = MIMEMultipart("mixed")
    _copy_headers(ole, prefix, message)
    message.attach(_body(ole, prefix))
    for part in _attachments(ole, prefix, depth):
        message.attach(part)
    return message


def msg_to_rfc822(raw: bytes) -> bytes:
    """Convert an Outlook .msg to a MIME message (headers, text/HTML body, attachments, and
    attached Outlook items as message/rfc822 parts)."""
    try:
        ole = olefile.OleFileIO(io.BytesIO(raw))
    except Exception as exc:  # olefile raises assorted errors on corrupt files
        raise MsgConversionError(f"not a readable OLE2 file: {type(exc).__name__}") from exc
    try:
        if not any(ole.exists(marker) for marker in _MESSAGE_MARKERS):
            raise MsgConversionError("OLE2 file without Outlook message properties")
        return _message(ole, "", depth=0).as_bytes()
    except MsgConversionError:
        raise
    except Exception as exc:  # corrupt streams inside a valid container
        raise MsgConversionError(f"Outlook message unreadable: {type(exc).__name__}") from exc
    finally:
        ole.close()
