"""TNEF (winmail.dat) unpacking via tnefparse; see docs/subsystems/email.md."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tnefparse.tnef import TNEF

from opsdesk.intake.email.charsets import decode_bytes
from opsdesk.intake.email.rtf import compressed_rtf_text

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
MAX_NESTING = 3

logging.getLogger("tnefparse").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class TnefFile:
    filename: str
    payload: bytes


@dataclass
class TnefContent:
    files: list[TnefFile] = field(default_factory=list)
    body_text: str = ""
    body_html: str = ""


def is_tnef(payload: bytes) -> bool:
    return payload[:4] == TNEF_SIGNATURE


def _text(value: object, codepage: str | None) -> str:
    if isinstance(value, bytes):
        return decode_bytes(value.rstrip(b"\x00"), codepage)[0]
    return value.strip("\x00") if isinstance(value, str) else ""


def _attachment_name(attachment: object, codepage: str | None, index: int) -> str:
    for getter in ("long_filename", "name"):
        try:
            value = getattr(attachment, getter)
            value = value() if callable(value) else value
        except (UnicodeDecodeError, AttributeError, TypeError, ValueError):
            value = getattr(attachment, "_name", b"")
        name = _text(value, codepage).strip()
        if name:
            return name
    return f"tnef-attachment-{index}"


def _load(payload: bytes, defects: list[str]) -> TNEF | None:
    try:
        return TNEF(payload, do_checksum=False)
    except Exception as exc:  # third-party parser on untrusted bytes
        defects.append(f"TNEF undecodable: {type(exc).__name__}")
        return None


def unpack_tnef(payload: bytes, defects: list[str], *, depth: int = 0) -> TnefContent | None:
    """Files and body inside a winmail.dat (nested TNEF unpacked too); None if undecodable."""
    tnef = _load(payload, defects)
    if tnef is None:
        return None
    codepage = str(tnef.codepage) if getattr(tnef, "codepage", None) else None
    content = TnefContent(
        body_text=_text(getattr(tnef, "body", None), codepage),
        body_html=_text(getattr(tnef, "htmlbody", None), codepage),
    )
    rtf = getattr(tnef, "_rtfbody", None)  # PR_RTF_COMPRESSED, still compressed
    if not content.body_text.strip() and not content.body_html.strip() and rtf:
        # Outlook's rich-text mail: the RTF body is the only body there is.
        content.body_text = compressed_rtf_text(bytes(rtf), codepage=codepage)
        if content.body_text:
            defects.append("TNEF body converted from RTF")
    for index, attachment in enumerate(getattr(tnef, "attachments", []), start=1):
        data = getattr(attachment, "data", b"")
        data = data if isinstance(data, bytes) else b""
        name = _attachment_name(attachment, codepage, index)
        inner = unpack_tnef(data, defects, depth=depth + 1) if is_tnef(data) else None
        if depth < MAX_NESTING and inner is not None and inner.files:
            content.files.extend(inner.files)  # embedded Outlook item: take its files
        else:
            content.files.append(TnefFile(filename=name, payload=data))
    return content
