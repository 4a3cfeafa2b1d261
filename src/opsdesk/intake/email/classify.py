"""Auto-reply, bounce, receipt, complaint and list detection; see docs/subsystems/email.md."""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsdesk.intake.email.headers import find_addresses
from opsdesk.intake.email.results import ParsedMessage

KINDS = ("normal", "auto_reply", "bounce", "read_receipt", "complaint", "list")

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_PREFIX = re.compile(r"^\s*(re|fw|fwd|aw|wg|sv|vs|답장|회신|전달)\s*:", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery status notification|delivery failure|"
    r"delivery has failed|mail delivery failed|failure notice|delayed mail|"
    r"could not send message|mail system error|non[- ]?deliver|message not delivered|"
    r"메일 전송 실패|전송 실패|반송|배달 실패|メールエラー|配信エラー|退信|未能送达",
    re.I,
)
_DELAY_SUBJECT = re.compile(r"delay|still being retried|warning|could not send message for", re.I)
# Where the returned original starts in a bounce's text (its addresses are not the failures).
_ORIGINAL_START = re.compile(
    r"^(?:received|return-path|message-id|from|to|subject|date|authentication-results)\s*:|"
    r"original message|below this line|returned message|원본 메일|원본 메시지",
    re.I | re.M,
)
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*[\[(]?\s*(automatic reply|auto[- ]?reply|autoresponse|auto[- ]?respons|"
    r"out of (the )?office|abwesenheitsnotiz|réponse automatique|"
    r"부재중|자동 ?회신|자동 ?응답|自動応答|自动回复)",
    re.I,
)
_OUT_OF_OFFICE_ANYWHERE = re.compile(r"out of (the )?office|부재중", re.I)
_READ_SUBJECT = re.compile(r"^\s*(not read|read|gelesen|lu|읽음|읽지 않음)\s*:", re.I)


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str  # one of KINDS
    reason: str
    failed_recipients: tuple[str, ...] = ()
    status_codes: tuple[str, ...] = ()
    permanent: bool | None = None  # bounces only: 5.x.x permanent, 4.x.x temporary

    @property
    def is_automated(self) -> bool:
        """Never auto-answer anything that is not a normal human message."""
        return self.kind != "normal"


def classify(parsed: ParsedMessage) -> Classification:
    """Classify a parsed message; checks run from the most to the least specific signal."""
    for check in (_bounce, _complaint, _read_receipt, _auto_reply, _mailing_list):
        result = check(parsed)
        if result is not None:
            return result
    return Classification(kind="normal", reason="no automated-mail marker")


def _report_type(parsed: ParsedMessage) -> str:
    return (parsed.headers.report_type or "").strip().lower()


def _dsn_blocks(text: str) -> tuple[list[str], list[str], list[str]]:
    """(failed recipients, status codes, actions) from an RFC 3464 delivery-status body."""
    recipients: list[str] = []
    codes: list[str] = []
    actions: list[str] = []
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "final-recipient":
            address = value.split(";", 1)[-1].strip().strip("<>").lower()
            if address and address not in recipients:
                recipients.append(address)
        elif name == "status":
            match = _STATUS.search(value)
            if match:
                codes.append(match.group(0))
        elif name == "action":
            actions.append(value.lower())
    return recipients, codes, actions


def _permanence(codes: list[str], actions: list[str], subject: str) -> bool:
    if any(code.startswith("5") for code in codes) or "failed" in actions:
        return not all(code.startswith("4") for code in codes) if codes else True
    if any(code.startswith("4") for code in codes) or "delayed" in actions:
        return False
    return not _DELAY_SUBJECT.search(subject)


def _looks_like_bounce(parsed: ParsedMessage) -> str | None:
    if parsed.delivery_status is not None or _report_type(parsed) == "delivery-status":
        return "multipart/report delivery-status"
    local = (parsed.from_address or "").split("@", 1)[0]
    if local in _BOUNCE_SENDERS:
        return f"sender {local}"
    if _BOUNCE_SUBJECT.search(parsed.subject) and not _REPLY_PREFIX.match(parsed.subject):
        return "bounce subject"
    return None


def _body_recipients(parsed: ParsedMessage) -> list[str]:
    """Heuristic for non-standard bounces: addresses named in the notice's own text."""
    excluded = {parsed.from_address or ""} | {a for _, a in parsed.to}
    notice = _ORIGINAL_START.split(parsed.text_body[:20000], maxsplit=1)[0]
    found = find_addresses(notice, limit=50)
    return [a for a in found if a not in excluded and a.split("@")[0] not in _BOUNCE_SENDERS][:10]


def _bounce(parsed: ParsedMessage) -> Classification | None:
    reason = _looks_like_bounce(parsed)
    if reason is None:
        return None
    recipients, codes, actions = _dsn_blocks(parsed.delivery_status or "")
    if not recipients:
        recipients = _body_recipients(parsed)
    if not codes:
        codes = [m.group(0) for m in _STATUS.finditer(parsed.text_body[:20000])]
    codes = [c for c in dict.fromkeys(codes) if not c.startswith("2")]
    return Classification(
        kind="bounce",
        reason=reason,
        failed_recipients=tuple(recipients),
        status_codes=tuple(codes),
        permanent=_permanence(codes, actions, parsed.subject),
    )


def _complaint(parsed: ParsedMessage) -> Classification | None:
    if parsed.feedback_report is not None or _report_type(parsed) == "feedback-report":
        return Classification(kind="complaint", reason="ARF feedback-report")
    return None


def _read_receipt(parsed: ParsedMessage) -> Classification | None:
    if parsed.disposition_notification is not None:
        return Classification(kind="read_receipt", reason="message/disposition-notification")
    if _report_type(parsed) == "disposition-notification":
        return Classification(kind="read_receipt", reason="report-type disposition-notification")
    content_type = (parsed.headers.content_type or "").lower()
    automated = "ms-tnef" in content_type or bool(parsed.headers.auto_submitted)
    if _READ_SUBJECT.match(parsed.subject) and automated:
        return Classification(kind="read_receipt", reason="Outlook read receipt")
    return None


def _auto_reply(parsed: ParsedMessage) -> Classification | None:
    headers = parsed.headers
    auto_submitted = (headers.auto_submitted or "").strip().lower()
    precedence = (headers.precedence or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        reason = f"Auto-Submitted: {auto_submitted}"
    elif headers.x_autoreply or headers.x_autorespond:
        reason = "X-Autoreply/X-Autorespond header"
    elif precedence in {"bulk", "junk", "auto_reply"} and not headers.list_id:
        reason = f"Precedence: {precedence}"
    elif _AUTO_REPLY_SUBJECT.match(parsed.subject):
        reason = "auto-reply subject"
    elif _OUT_OF_OFFICE_ANYWHERE.search(parsed.subject) and not _REPLY_PREFIX.match(parsed.subject):
        reason = "out-of-office subject"
    else:
        return None
    return Classification(kind="auto_reply", reason=reason)


def _mailing_list(parsed: ParsedMessage) -> Classification | None:
    precedence = (parsed.headers.precedence or "").strip().lower()
    if parsed.headers.list_id or precedence == "list":
        return Classification(kind="list", reason="List-Id or Precedence: list")
    return None
