"""AWS SNS message signatures, verified as AWS documents it (SignatureVersion 1 = SHA1withRSA,
2 = SHA256withRSA over the canonical "Key\\nValue\\n" string) with the certificate from
``SigningCertURL``, whose host must be ``sns.<region>.amazonaws.com``.

No crypto dependency: the RSA public key is read from the certificate's DER and the
PKCS#1 v1.5 signature checked with integer arithmetic. The certificate fetch is injectable
(``cert_fetcher``) and cached per URL. The certificate chain itself is not validated: trust
comes from fetching it over HTTPS from an amazonaws.com host. See docs/subsystems/alerts.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from opsdesk.alerts.sources.base import SignatureError

CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
FETCH_TIMEOUT_SECONDS = 5
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
SUBSCRIPTION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
DIGESTS = {
    "1": ("sha1", "3021300906052b0e03021a05000414"),
    "2": ("sha256", "3031300d060960864801650304020105000420"),
}


def _fetch(url: str) -> bytes:
    context = ssl.create_default_context()
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS, context=context) as response:  # noqa: S310 (host checked)
        return bytes(response.read())


@lru_cache(maxsize=32)
def _fetch_cached(url: str) -> bytes:
    return cert_fetcher(url)


# Replace in tests (never call AWS from a test); production fetches over HTTPS.
cert_fetcher: Callable[[str], bytes] = _fetch


def canonical_string(message: Mapping[str, Any]) -> bytes:
    keys = NOTIFICATION_KEYS if message.get("Type") == "Notification" else SUBSCRIPTION_KEYS
    parts = [f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None]
    return "".join(parts).encode()


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length


def _der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    children = []
    while start < end:
        element = _der_element(data, start)
        children.append(element)
        start = element[2]
    return children


def rsa_public_key(pem: bytes) -> tuple[int, int]:
    """(modulus, exponent) from a PEM X.509 certificate."""
    body = b"".join(line for line in pem.strip().splitlines() if not line.startswith(b"-----"))
    der = base64.b64decode(body)
    _, start, end = _der_element(der, 0)
    _, tbs_start, tbs_end = _der_children(der, start, end)[0]
    fields = _der_children(der, tbs_start, tbs_end)
    if fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    _, spki_start, spki_end = fields[5]
    _, bits_start, _bits_end = _der_children(der, spki_start, spki_end)[1]
    _, key_start, key_end = _der_element(der, bits_start + 1)  # skip unused-bits byte
    modulus, exponent = _der_children(der, key_start, key_end)[:2]
    return (
        int.from_bytes(der[modulus[1] : modulus[2]], "big"),
        int.from_bytes(der[exponent[1] : exponent[2]], "big"),
    )


def rsa_pkcs1v15_verify(*, pem: bytes, signature: bytes, data: bytes, version: str) -> bool:
    algorithm, prefix = DIGESTS[version]
    modulus, exponent = rsa_public_key(pem)
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    decoded = pow(int.from_bytes(signature, "big"), exponent, modulus).to_bytes(size, "big")
    digest_info = bytes.fromhex(prefix) + hashlib.new(algorithm, data).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return hmac.compare_digest(decoded, expected)


def cert_url_check(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not CERT_HOST.match(parts.hostname or ""):
        raise SignatureError(
            f"SigningCertURL {url!r} is not an https sns.<region>.amazonaws.com URL"
        )


def sns_verify(message: Mapping[str, Any]) -> None:
    """Raise SignatureError unless ``message`` carries a valid AWS SNS signature."""
    version = str(message.get("SignatureVersion") or "")
    if version not in DIGESTS:
        raise SignatureError(f"unsupported SignatureVersion {version!r}")
    url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    cert_url_check(url)
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        pem = _fetch_cached(url)
        valid = rsa_pkcs1v15_verify(
            pem=pem, signature=signature, data=canonical_string(message), version=version
        )
    except SignatureError:
        raise
    except Exception as exc:
        raise SignatureError(f"could not check the SNS signature: {exc}") from exc
    if not valid:
        raise SignatureError("the SNS signature does not match the message")


def cache_clear() -> None:
    _fetch_cached.cache_clear()
