"""Charset labels and byte decoding as real mail clients send them; see docs/subsystems/email.md."""

from __future__ import annotations

import codecs
import re

# Labels seen in the wild mapped to the Python codec that really decodes them. Korean labels all
# mean CP949 (Unified Hangul Code), a superset of EUC-KR that Outlook and Windows actually emit;
# GB2312/GBK mean GB18030 (superset); Shift_JIS means CP932 (Windows extensions).
_ALIASES: dict[str, str] = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "ks_x_1001": "cp949",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "x-euc-kr": "cp949",
    "korean": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "cp949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
    "iso-2022-kr": "iso2022_kr",
    "csiso2022kr": "iso2022_kr",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "iso-2022-jp-2": "iso2022_jp_2",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-jp": "euc_jis_2004",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "x-gbk": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "x-mac-korean": "cp949",
    # US-ASCII and ISO-8859-1 labels routinely hide Windows-1252 punctuation.
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
}

# Labels that carry no information: decode by detection.
_UNKNOWN_LABELS = frozenset({"unknown-8bit", "x-unknown", "unknown", "none", "default", ""})

# The fallback chain after the declared charset (UTF-8 strict, then Korean, then a total codec).
FALLBACK_CHAIN: tuple[str, ...] = ("utf-8", "cp949")
LAST_RESORT = "latin-1"

_LABEL_CLEAN = re.compile(r"[\s\"']")
# Raw 8-bit bytes the stdlib parser kept as surrogate escapes (one C scan, not a Python loop
# over every character of every header).
_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def normalise_charset(label: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or None if unknown or empty."""
    if not label:
        return None
    clean = _LABEL_CLEAN.sub("", label).lower()
    clean = clean.split("*", 1)[0]  # RFC 2231 language suffix: charset*lang
    if clean in _UNKNOWN_LABELS:
        return None
    if clean in _ALIASES:
        return _ALIASES[clean]
    try:
        return codecs.lookup(clean).name
    except (LookupError, ValueError):
        return None


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(
    data: bytes, declared: str | None, *, hints: tuple[str, ...] = ()
) -> tuple[str, str | None]:
    """Decode mail bytes: declared charset, then hints, UTF-8, CP949, finally latin-1.

    Returns the text and a defect description when the declared label was missing, unknown or
    wrong (None when the declared charset decoded cleanly).
    """
    codec = normalise_charset(declared)
    if codec == "cp1252" and not data.isascii():
        # "us-ascii"/"iso-8859-1" labels on UTF-8 text are a frequent client bug; valid UTF-8
        # multi-byte sequences almost never occur by chance in real Latin-1 text.
        text = _try_decode(data, "utf-8")
        if text is not None:
            return text, _defect(declared, codec, "utf-8")
    if codec is not None:
        text = _try_decode(data, codec)
        if text is not None:
            return text, None
    if not data or data.isascii():
        return data.decode("ascii"), None
    candidates = [c for c in (*hints, *FALLBACK_CHAIN) if c and c != codec]
    for candidate in candidates:
        text = _try_decode(data, candidate)
        if text is not None:
            return text, _defect(declared, codec, candidate)
    if _truncated_utf8(data):  # e.g. a file name cut mid-character by the sending client
        return data.decode("utf-8", errors="replace"), _defect(declared, codec, "utf-8+replace")
    if codec is not None:  # the declared codec exists: prefer it with replacement characters
        return data.decode(codec, errors="replace"), _defect(declared, codec, f"{codec}+replace")
    single = _single_byte_guess(data)
    return data.decode(single, errors="replace"), _defect(declared, codec, single)


def _truncated_utf8(data: bytes) -> bool:
    """True when only the last 1-3 bytes keep the data from being valid UTF-8."""
    return any(_try_decode(data[:-cut], "utf-8") is not None for cut in (1, 2, 3))


def _single_byte_guess(data: bytes) -> str:
    """Last resort for unlabelled 8-bit text: Cyrillic (cp1251) when high bytes dominate the
    letters (whole words of non-Latin script), else Western (cp1252, latin-1 for its holes)."""
    high = sum(1 for b in data if b >= 0xC0)
    ascii_letters = sum(1 for b in data if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    if high > ascii_letters:
        return "cp1251"
    return "cp1252" if _try_decode(data, "cp1252") is not None else LAST_RESORT


def _defect(declared: str | None, codec: str | None, used: str) -> str:
    if declared is None or not declared.strip():
        return f"no charset declared; decoded as {used}"
    if codec is None:
        return f"unknown charset {declared!r}; decoded as {used}"
    return f"bytes invalid in declared charset {declared!r}; decoded as {used}"


def decode_surrogates(value: str, *, hints: tuple[str, ...] = ()) -> tuple[str, str | None]:
    """Decode a str whose raw 8-bit bytes the stdlib parser kept as surrogate escapes."""
    if _SURROGATE_ESCAPE.search(value) is None:
        return value, None
    raw = value.encode("utf-8", errors="surrogateescape")
    text = _try_decode(raw, "utf-8")
    if text is not None:  # RFC 6532 (SMTPUTF8) headers are legitimately raw UTF-8
        return text, None
    text, defect = decode_bytes(raw, None, hints=hints)
    return text, f"raw 8-bit bytes in header: {defect}"
