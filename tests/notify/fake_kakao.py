"""A fake NHN Cloud KakaoTalk Bizmessage (AlimTalk API v2.3) that checks requests as NHN
documents them.

POST /alimtalk/v2.3/appkeys/{appkey}/messages, ``X-Secret-Key``, optional
``X-NC-API-IDEMPOTENCY-KEY``; body {senderKey (40 characters), templateCode (up to 20),
recipientList: [{recipientNo (up to 15), templateParameter {key: value},
resendParameter {isResend, resendType SMS|LMS, resendTitle, resendContent, resendSendNo}}]}.
Answers are HTTP 200 with {"header": {isSuccessful, resultCode, resultMessage}, "message":
{requestId, senderGroupingKey, sendResults: [{recipientSeq, recipientNo, resultCode,
resultMessage, recipientGroupingKey}]}}. Error codes (header): -1000 Invalid appKey.,
-1001 Invalid secretKey., -1003 Invalid Sms Sendno, -1005 the same idempotency key within
10 minutes, -2017 Not exist plus friend.
"""

from __future__ import annotations

import json
from typing import Any

from tests.notify.fakes import Seen

APP = "AppKey0000000001"
SECRET = "SeCrEt01"
SENDER = "0" * 39 + "1"
TEMPLATE = "OPSDESK_ESC01"
SMS_NUMBERS = {"0200000001"}  # sender numbers registered with NHN's SMS service


def _header(code: int, message: str) -> dict[str, Any]:
    return {"header": {"isSuccessful": code == 0, "resultCode": code, "resultMessage": message}}


def _resend_problem(resend: dict[str, Any]) -> tuple[int, str] | None:
    if resend.get("resendSendNo") not in SMS_NUMBERS:
        return -1003, "Invalid Sms Sendno"
    kind, content = resend.get("resendType"), resend.get("resendContent", "")
    limit = {"SMS": 90, "LMS": 2000}.get(kind)
    if not isinstance(resend.get("isResend"), bool) or limit is None:
        return 4, "Parameter validation failed"
    if len(content.encode("cp949")) > limit or ("resendTitle" in resend and kind != "LMS"):
        return -2000, "The 'resendContent' must be at less than or equal to 2000."
    return None


class KakaoRule:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.lose_next_answer = False

    def __call__(self, request: Seen) -> tuple[int, Any]:
        if request.path != f"/alimtalk/v2.3/appkeys/{APP}/messages":
            return 200, _header(-1000, "Invalid appKey.")
        if request.headers.get("X-Secret-Key") != SECRET:
            return 200, _header(-1001, "Invalid secretKey.")
        key = request.headers.get("X-NC-API-IDEMPOTENCY-KEY")
        if key in self.keys:
            return 200, _header(
                -1005, "The same 'X-NC-API-IDEMPOTENCY-KEY' was used within the last 10 minute."
            )
        body = json.loads(request.body)
        if body.get("senderKey") != SENDER:
            return 200, _header(-2017, "Not exist plus friend.")
        recipient = body["recipientList"][0]
        number = recipient.get("recipientNo", "")
        params = recipient.get("templateParameter") or {}
        if (
            body.get("templateCode") != TEMPLATE
            or not number.isdigit()
            or len(number) > 15
            or sorted(params) != ["body", "subject", "url"]
        ):
            return 200, _header(4, "Parameter validation failed")
        problem = (
            _resend_problem(recipient["resendParameter"])
            if "resendParameter" in recipient
            else None
        )
        if problem:
            return 200, _header(*problem)
        if key:
            self.keys.add(key)
        if self.lose_next_answer:  # accepted, but the answer never arrives
            self.lose_next_answer = False
            return 504, {"message": "Gateway Timeout"}
        return 200, {
            **_header(0, "SUCCESS"),
            "message": {
                "requestId": "20261206090000abcDEF01",
                "senderGroupingKey": None,
                "sendResults": [
                    {
                        "recipientSeq": 1,
                        "recipientNo": number,
                        "resultCode": 0,
                        "resultMessage": "SUCCESS",
                        "recipientGroupingKey": None,
                    }
                ],
            },
        }
