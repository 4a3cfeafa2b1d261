"""AWS SNS: message signatures and subscription confirmation. See docs/subsystems/alerts.md.

Signatures as AWS documents them: SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA over
the canonical "Key\\nValue\\n" string, with the certificate from ``SigningCertURL``. That URL
must be ``https://sns.<region>.amazonaws.com[.cn]/…``; the certificate must chain to a root
of the system trust store (intermediates from the PEM itself or fetched once through the
certificate's "CA Issuers" link) and be within its validity period. A validated
certificate is cached per URL (its expiry is still checked on every use).

A SubscribeURL is only visited when it is ``https://sns.<region of the TopicArn>.amazonaws.
com[.cn]/?Action=ConfirmSubscription…``.

Tests run a fake SNS on 127.0.0.1 over plain HTTP with their own CA: Django settings (never
the environment, never a payload) may add origins (``OPSDESK_SNS_TEST_ORIGINS``, e.g.
``["http://127.0.0.1:8123"]``) and replace the trust roots (``OPSDESK_SNS_TRUST_ROOTS``, a
PEM file).
"""

from __future__ import annotations

import base64
import re
import ssl
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from django.conf import settings

from opsdesk.alerts.sources.base import SignatureError, SourceError
from opsdesk.core.clock import now

CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
TOPIC_ARN = re.compile(r"^arn:(aws[a-z-]*):sns:([a-z0-9-]+):\d+:[^:]+$")
FETCH_TIMEOUT_SECONDS = 5
FETCH_LIMIT_BYTES = 256 * 1024
# Intermediates fetched through "CA Issuers" links, at most this many per certificate.
MAX_ISSUER_FETCHES = 3
CERT_CACHE_SIZE = 64
# Where OpenSSL-based systems keep the trust store when Python does not say.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # Alpine, macOS
)
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
PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
SNS_XMLNS = "{http://sns.amazonaws.com/doc/2010-03-31/}"


class ConfirmError(Exception):
    """SNS did not confirm the subscription (unreachable, or it answered an error)."""


# --- where OpsDesk may fetch from ----------------------------------------------------------


def _test_origins() -> frozenset[str]:
    return frozenset(getattr(settings, "OPSDESK_SNS_TEST_ORIGINS", ()) or ())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def topic_region(topic_arn: str) -> tuple[str, str]:
    """(partition, region) of ``arn:aws:sns:eu-west-1:123456789012:topic``."""
    found = TOPIC_ARN.match(topic_arn)
    if not found:
        raise SourceError(f"TopicArn {topic_arn!r} is not an SNS topic ARN")
    return found.group(1), found.group(2)


def cert_url_check(url: str) -> None:
    if _origin(url) in _test_origins():
        return
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.port or not CERT_HOST.match(parts.hostname or ""):
        raise SignatureError(
            f"SigningCertURL {url!r} is not an https sns.<region>.amazonaws.com URL"
        )


def subscribe_url_check(url: str, topic_arn: str) -> None:
    """The SubscribeURL must be SNS's ConfirmSubscription in the topic's own region."""
    partition, region = topic_region(topic_arn)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.get("Action") != ["ConfirmSubscription"]:
        raise SourceError("SubscribeURL is not an SNS ConfirmSubscription URL")
    if _origin(url) in _test_origins():
        return
    suffix = ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"
    if parts.scheme != "https" or parts.port or parts.hostname != f"sns.{region}{suffix}":
        raise SourceError(
            f"SubscribeURL {url!r} is not https://sns.{region}{suffix}/ (the topic's region)"
        )


def _get(url: str) -> bytes:
    if urlsplit(url).scheme not in ("https", "http"):
        raise OSError(f"not an HTTP URL: {url!r}")
    context = ssl.create_default_context()
    # The host or scheme was checked by the caller; only http(s) reaches here.
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS, context=context) as response:  # noqa: S310
        return bytes(response.read(FETCH_LIMIT_BYTES))


# --- certificates ----------------------------------------------------------------------------


def _bundle_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle, skipping any the parser refuses (old roots)."""
    found = []
    for block in PEM_BLOCK.findall(data):
        try:
            found.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            continue
    return found


def _trust_bundle_path() -> Path:
    configured = getattr(settings, "OPSDESK_SNS_TRUST_ROOTS", "")
    if configured:
        return Path(configured)
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, *SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SignatureError("no trusted root certificates found on this system")


@lru_cache(maxsize=4)
def _trust_store(path: Path) -> Store:
    roots = _bundle_certificates(path.read_bytes())
    if not roots:
        raise SignatureError(f"no certificates in the trust store {path}")
    return Store(roots)


def _load_any(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" in data:
        return _bundle_certificates(data)
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        return []


def _issuer_urls(cert: x509.Certificate) -> list[str]:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        str(item.access_location.value)
        for item in access
        if item.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(item.access_location, x509.UniformResourceIdentifier)
    ]


@lru_cache(maxsize=16)
def _issuer_fetch(url: str) -> tuple[x509.Certificate, ...]:
    return tuple(_load_any(_get(url)))


def chain_verify(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], at: datetime
) -> None:
    """Raise SignatureError unless ``leaf`` chains to a trusted root and every certificate
    of the chain is valid at ``at``. Missing intermediates are fetched through the "CA
    Issuers" links (their signatures are checked like any other)."""
    store = _trust_store(_trust_bundle_path())
    # The signing certificate is no TLS server certificate: no name or key-usage rules for
    # it; the CAs above it are checked by the usual Web PKI rules.
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(at)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    pool = list(intermediates)
    pending = _issuer_urls(leaf)
    fetched = 0
    while True:
        try:
            verifier.verify(leaf, pool)
            return
        except VerificationError as exc:
            error = exc
        if not pending or fetched >= MAX_ISSUER_FETCHES:
            raise SignatureError(f"the SNS signing certificate is not trusted: {error}")
        url = pending.pop(0)
        fetched += 1
        try:
            found = _issuer_fetch(url)
        except OSError as exc:
            raise SignatureError(f"could not fetch the issuer certificate {url}: {exc}") from exc
        pool.extend(found)
        for issuer in found:
            pending.extend(_issuer_urls(issuer))


@dataclass(frozen=True)
class CachedCert:
    certificate: x509.Certificate
    not_after: datetime


_certs: dict[str, CachedCert] = {}


def signing_certificate(url: str) -> x509.Certificate:
    """The validated certificate behind ``SigningCertURL``: fetched, chain-checked and cached
    once per URL; an expired one is refused (and dropped) even from the cache."""
    at = now()
    cached = _certs.get(url)
    if cached is None:
        try:
            certificates = _load_any(_get(url))
        except OSError as exc:
            raise SignatureError(f"could not fetch the SNS signing certificate: {exc}") from exc
        if not certificates:
            raise SignatureError("SigningCertURL did not return a certificate")
        leaf = certificates[0]
        chain_verify(leaf, certificates[1:], at)
        cached = CachedCert(certificate=leaf, not_after=leaf.not_valid_after_utc)
        if len(_certs) >= CERT_CACHE_SIZE:
            _certs.clear()
        _certs[url] = cached
    if cached.not_after <= at:
        _certs.pop(url, None)
        raise SignatureError("the SNS signing certificate has expired")
    return cached.certificate


def cache_clear() -> None:
    _certs.clear()
    _issuer_fetch.cache_clear()
    _trust_store.cache_clear()


# --- messages ----------------------------------------------------------------------------


def canonical_string(message: Mapping[str, Any]) -> bytes:
    keys = NOTIFICATION_KEYS if message.get("Type") == "Notification" else SUBSCRIPTION_KEYS
    parts = [f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None]
    return "".join(parts).encode()


def sns_verify(message: Mapping[str, Any]) -> None:
    """Raise SignatureError unless ``message`` carries a valid AWS SNS signature."""
    version = str(message.get("SignatureVersion") or "")
    if version not in HASHES:
        raise SignatureError(f"unsupported SignatureVersion {version!r}")
    url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    cert_url_check(url)
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except ValueError as exc:
        raise SignatureError("the SNS Signature is not base64") from exc
    key = signing_certificate(url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("the SNS signing certificate has no RSA key")
    try:
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), HASHES[version]())
    except InvalidSignature as exc:
        raise SignatureError("the SNS signature does not match the message") from exc


def subscription_confirm(url: str) -> str:
    """Visit a (checked) SubscribeURL; the SubscriptionArn SNS answers, or ConfirmError."""
    started = time.monotonic()
    try:
        body = _get(url)
    except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
        elapsed = time.monotonic() - started
        raise ConfirmError(f"SubscribeURL failed after {elapsed:.1f}s: {exc}") from exc
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - SNS's answer; no entities expanded
    except ElementTree.ParseError as exc:
        raise ConfirmError(f"SNS answered something that is not XML: {exc}") from exc
    arn = root.findtext(f"{SNS_XMLNS}ConfirmSubscriptionResult/{SNS_XMLNS}SubscriptionArn")
    if not arn:
        raise ConfirmError("SNS's answer has no SubscriptionArn")
    return arn.strip()
