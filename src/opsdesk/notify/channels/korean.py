"""Korean mobile recipients and SMS/LMS sizing, shared by the Naver SENS and KakaoTalk
channels (docs/subsystems/notifications.md#korean-sms).

Korean gateways count message size in EUC-KR bytes: 90 for an SMS, 2,000 for an LMS (40 for
its subject); a character outside the character set makes the send fail. Sizes are counted in
CP949, Microsoft's superset of EUC-KR: every Hangul syllable is two bytes in both, whereas
Python's strict ``euc_kr`` codec writes the 8,822 syllables outside KS X 1001 as 8-byte
composition sequences, which no gateway counts that way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import phonenumbers

from opsdesk.core.phones import try_normalize_phone
from opsdesk.notify.channels.base import Message

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000
LMS_SUBJECT_MAX_BYTES = 40
ENCODING = "cp949"

# Characters that often reach us (typographic punctuation) but not a Korean handset.
_STAND_INS = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00a0": " ",
}


def sms_text(text: str) -> str:
    """``text`` with every character a Korean gateway cannot carry replaced (emoji → ``?``)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        char = _STAND_INS.get(char, char)
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            char = "?"
        out.append(char)
    return "".join(out)


def sms_bytes(text: str) -> int:
    return len(text.encode(ENCODING))


def sms_clip(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` (never half a character)."""
    if sms_bytes(text) <= max_bytes:
        return text
    size, end = 0, 0
    for index, char in enumerate(text):
        size += sms_bytes(char)
        if size > max_bytes:
            break
        end = index + 1
    return text[:end]


@dataclass(frozen=True)
class SmsParts:
    kind: str  # "SMS" or "LMS"
    subject: str  # LMS only
    content: str


def sms_compose(message: Message) -> SmsParts:
    """An SMS when subject and link fit in 90 bytes; otherwise an LMS whose content keeps the
    link whole and shortens the body first."""
    subject, body, url = (sms_text(part) for part in (message.subject, message.body, message.url))
    short = f"{subject} {url}".strip()
    if sms_bytes(short) <= SMS_MAX_BYTES:
        return SmsParts(kind="SMS", subject="", content=short)
    tail = f"\n{url}" if url else ""
    head = "\n".join(part for part in (subject, body) if part)
    content = sms_clip(head, LMS_MAX_BYTES - sms_bytes(tail)) + tail
    return SmsParts(
        kind="LMS", subject=sms_clip(subject, LMS_SUBJECT_MAX_BYTES), content=content.strip()
    )


def digits(text: str) -> str:
    """Only the digits: gateways take numbers as "0200000001", not "02-0000-0001"."""
    return "".join(char for char in text if char.isdigit())


@dataclass(frozen=True)
class Recipient:
    country_code: str  # "82"
    number: str  # digits as Korean gateways take them: "01000000001"


def recipient_parse(address: str) -> Recipient | None:
    """A contact method's phone number in any written form, or None if it is not one."""
    e164 = try_normalize_phone(address)
    if e164 is None:
        return None
    parsed = phonenumbers.parse(e164, None)
    national = str(parsed.national_number)
    # Korean gateways want the domestic form with its trunk 0 (010..., 02...).
    number = "0" + national if parsed.country_code == 82 else national
    return Recipient(country_code=str(parsed.country_code), number=number)
