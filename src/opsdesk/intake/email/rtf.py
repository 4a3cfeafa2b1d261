"""Outlook's compressed RTF bodies to plain text (compressed-rtf + striprtf); see
docs/subsystems/email.md and docs/decisions/0005.

Outlook sends some mail with only an RTF body (TNEF ``winmail.dat`` and ``.msg`` files, the
MAPI property PR_RTF_COMPRESSED). We decompress it (MS-OXRTFCP, ``compressed_rtf``) and take
the text out with ``striprtf``; the RTF's own ``\\ansicpgNNNN`` names the code page of its
``\\'hh`` escapes (949 for Korean Outlook).
"""

from __future__ import annotations

import codecs
import logging
import re

import compressed_rtf
from striprtf.striprtf import rtf_to_text

logger = logging.getLogger("opsdesk.intake.email")

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
MAX_RTF_BYTES = 20 * 1024 * 1024


def rtf_decompress(data: bytes) -> bytes | None:
    """PR_RTF_COMPRESSED bytes to RTF; None when they are not compressed RTF."""
    try:
        rtf: bytes = compressed_rtf.decompress(data)
    except Exception:  # third-party decoder on untrusted bytes
        logger.debug("compressed RTF undecodable", exc_info=True)
        return None
    return rtf if rtf.lstrip()[:5] == b"{\\rtf" else None


def _codec(rtf: bytes, fallback: str | None) -> str:
    match = _CODEPAGE.search(rtf[:4096])
    for candidate in (f"cp{match.group(1).decode()}" if match else None, fallback, "cp1252"):
        if not candidate:
            continue
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return "cp1252"


def rtf_text(rtf: bytes, *, codepage: str | None = None) -> str:
    """The readable text of an RTF document ('' if it cannot be read)."""
    if len(rtf) > MAX_RTF_BYTES:
        rtf = rtf[:MAX_RTF_BYTES]
    try:
        # Raw bytes above 0x7f are rare in RTF (escapes carry the text); latin-1 keeps them
        # one-to-one so striprtf sees the document as written.
        text = rtf_to_text(rtf.decode("latin-1"), encoding=_codec(rtf, codepage), errors="replace")
    except Exception:  # striprtf on malformed documents
        logger.debug("RTF text extraction failed", exc_info=True)
        return ""
    return text.replace("\r\n", "\n").strip()


def compressed_rtf_text(data: bytes, *, codepage: str | None = None) -> str:
    rtf = rtf_decompress(data)
    return rtf_text(rtf, codepage=codepage) if rtf is not None else ""
