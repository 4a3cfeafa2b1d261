"""Outlook .msg (OLE2 compound file) conversion to RFC 822 bytes; see docs/subsystems/email.md."""

from __future__ import annotations

import io
import re
from email.header import Header
from email.mime.application import MIMEApplication
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


def _body(ole: olefile.OleFileIO) -> MIMEMultipart:
    body = MIMEMultipart("alternative")
    text = _prop_text(ole, "", "1000") or ""
    html_bytes = _stream(ole, "__substg1.0_10130102")
    rtf = _stream(ole, "__substg1.0_10090102")  # PR_RTF_COMPRESSED
    if not text.strip() and not html_bytes and rtf:  # a rich-text-only Outlook message
        text = compressed_rtf_text(rtf)
    body.attach(MIMEText(text, "plain", "utf-8"))
    if html_bytes:
        html, _ = decode_bytes(html_bytes, sniff_html_charset(html_bytes))
        body.attach(MIMEText(html, "html", "utf-8"))
    return body


def _attachments(ole: olefile.OleFileIO) -> list[MIMEApplication]:
    storages = sorted({entry[0] for entry in ole.listdir() if _ATTACH.match(entry[0])})
    parts: list[MIMEApplication] = []
    for index, storage in enumerate(storages, start=1):
        prefix = storage + "/"
        data = _stream(ole, prefix + "__substg1.0_37010102")
        if data is None:  # embedded message or OLE object: not extracted yet
            continue
        name = _prop_text(ole, prefix, "3707") or _prop_text(ole, prefix, "3704")
        part = MIMEApplication(data)
        mime = _prop_text(ole, prefix, "370E")
        if mime and "/" in mime:
            part.replace_header("Content-Type", mime)
        content_id = _prop_text(ole, prefix, "3712")
        disposition = "inline" if content_id else "attachment"  # cid: images of the HTML body
        part.add_header(
            "Content-Disposition", disposition, filename=("utf-8", "", name or f"part-{index}")
        )
        if content_id:
            part.add_header("Content-ID", f"<{content_id}>")
        parts.append(part)
    return parts


def _copy_headers(ole: olefile.OleFileIO, message: MIMEMultipart) -> None:
    transport = _prop_text(ole, "", "007D") or ""
    headers = HeaderParser(policy=compat32).parsestr(transport, headersonly=True)
    for name, value in headers.items():
        if name.lower() not in _SKIPPED_HEADERS:
            message[name] = value
    if "Subject" not in message:
        message["Subject"] = Header(_prop_text(ole, "", "0037") or "", "utf-8").encode()
    if "From" not in message:
        sender = _prop_text(ole, "", "0C1F") or _prop_text(ole, "", "5D01") or ""
        name = _prop_text(ole, "", "0C1A") or ""
        message["From"] = f"{Header(name, 'utf-8').encode()} <{sender}>"


def msg_to_rfc822(raw: bytes) -> bytes:
    """Convert an Outlook .msg to a MIME message (headers, text/HTML body, attachments)."""
    try:
        ole = olefile.OleFileIO(io.BytesIO(raw))
    except Exception as exc:  # olefile raises assorted errors on corrupt files
        raise MsgConversionError(f"not a readable OLE2 file: {type(exc).__name__}") from exc
    try:
        markers = ("__substg1.0_0037001F", "__substg1.0_0037001E", "__substg1.0_007D001F")
        if not any(ole.exists(marker) for marker in markers):
            raise MsgConversionError("OLE2 file without Outlook message properties")
        message = MIMEMultipart("mixed")
        _copy_headers(ole, message)
        message.attach(_body(ole))
        for part in _attachments(ole):
            message.attach(part)
        return message.as_bytes()
    except MsgConversionError:
        raise
    except Exception as exc:  # corrupt streams inside a valid container
        raise MsgConversionError(f"Outlook message unreadable: {type(exc).__name__}") from exc
    finally:
        ole.close()
