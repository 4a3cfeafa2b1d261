"""A fake Naver Cloud SENS SMS (API v2) that checks requests as Naver documents them.

POST /sms/v2/services/{serviceId}/messages with ``x-ncp-apigw-timestamp`` (ms since the
epoch, refused more than 5 minutes from the gateway's clock), ``x-ncp-iam-access-key`` and
``x-ncp-apigw-signature-v2`` = base64(HMAC-SHA256(secret, "POST {uri}\\n{timestamp}\\n{access
key}")). Body: type SMS|LMS|MMS, countryCode, from (registered number), subject (LMS/MMS,
40 bytes), content (SMS 90 / LMS 2,000 bytes, EUC-KR; characters outside it fail),
messages[{to: digits only}]. Success: 202 {requestId, requestTime, statusCode "202",
statusName "success"}. The API gateway's errors: {"error": {errorCode, message, details}} —
401/200 Authentication Failed, 404/300 Not Found Exception, 429/410 Throttle Limited,
500/900 Unexpected Error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.notify.fakes import Seen

SERVICE = "ncp:sms:kr:000000000001:opsdesk"
ACCESS = "ACCESSKEY0000000001"
SECRET = "SECRETKEY00000000000000000000000000000001"
URI = f"/sms/v2/services/{SERVICE}/messages"
FROM = "0200000001"


def _gateway_error(status: int, code: str, message: str, details: str = "") -> tuple[int, Any]:
    return status, {"error": {"errorCode": code, "message": message, "details": details}}


def _signed(request: Seen) -> bool:
    timestamp = request.headers.get("x-ncp-apigw-timestamp", "")
    if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 5 * 60 * 1000:
        return False
    text = f"POST {request.path}\n{timestamp}\n{ACCESS}".encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), text, hashlib.sha256).digest())
    return (
        request.headers.get("x-ncp-iam-access-key") == ACCESS
        and request.headers.get("x-ncp-apigw-signature-v2", "").encode() == expected
    )


def _body_problem(body: dict[str, Any]) -> str | None:
    kind, content = body.get("type"), body.get("content", "")
    try:
        size = len(content.encode("cp949"))
    except UnicodeEncodeError:
        return "content has characters outside EUC-KR"
    limit = {"SMS": 90, "LMS": 2000}.get(kind)
    if limit is None or size > limit:
        return f"{kind} content of {size} bytes"
    if "subject" in body and (kind != "LMS" or len(body["subject"].encode("cp949")) > 40):
        return "subject only for LMS, 40 bytes"
    if not body.get("from", "").isdigit() or body.get("countryCode") not in ("82", "1"):
        return "from/countryCode"
    if not all(m.get("to", "").isdigit() for m in body.get("messages", [])):
        return "to must be digits only"
    return None


def sens_rule(request: Seen) -> tuple[int, Any]:
    if request.path != URI:
        return _gateway_error(404, "300", "Not Found Exception")
    if not _signed(request):
        return _gateway_error(
            401, "200", "Authentication Failed", "Invalid authentication information."
        )
    body = json.loads(request.body)
    problem = _body_problem(body)
    if problem or not request.headers.get("Content-Type", "").startswith("application/json"):
        return _gateway_error(400, "100", "Bad Request Exception", problem or "content type")
    to = body["messages"][0]["to"]
    if to.endswith("0429"):
        return _gateway_error(429, "410", "Throttle Limited", "Rate exceeded.")
    if to.endswith("0500"):
        return _gateway_error(500, "900", "Unexpected Error")
    return 202, {
        "requestId": "RSSA-1733475600000-0001-00000000-AbCdEfGh",
        "requestTime": "2026-12-06T09:00:00.000",
        "statusCode": "202",
        "statusName": "success",
    }
