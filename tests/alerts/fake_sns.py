"""A fake AWS SNS on 127.0.0.1 for the CloudWatch tests: a local PKI (root → intermediate →
signing certificate, made with the cryptography package) whose certificates it serves, and
the ConfirmSubscription action, answered as AWS documents it (an XML
ConfirmSubscriptionResponse carrying the SubscriptionArn; an ErrorResponse for a wrong
token). It signs messages the way SNS does (SignatureVersion 1 SHA1withRSA, 2 SHA256withRSA
over the canonical string)."""

from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from opsdesk.alerts.sources.sns import canonical_string

ACCOUNT = "123456789012"
XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpsDesk Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def issue(
    common_name: str,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    issuer_url: str = "",
) -> Issued:
    """A certificate signed by ``issuer`` (self-signed without one), shaped like the Web PKI's
    (CAs with key usage and key identifiers, so the chain check runs its real rules)."""
    key = _key()
    at = datetime.now(UTC)
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or at - timedelta(days=1))
        .not_valid_after(not_after or at + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("sns.amazonaws.com")]), critical=False
        )
    if issuer_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(issuer_url),
                    )
                ]
            ),
            critical=False,
        )
    return Issued(key=key, cert=builder.sign(signer, hashes.SHA256()))


@dataclass
class FakeSns:
    """Serves /certs/<name>.pem, /issuers/<name>.cer and /?Action=ConfirmSubscription."""

    server: ThreadingHTTPServer
    files: dict[str, bytes] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token → topic ARN
    requests: list[str] = field(default_factory=list)
    confirm_status: int = 200

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def cert_url(self, name: str) -> str:
        return f"{self.origin}/certs/{name}.pem"

    def subscription_confirmation(self, topic_arn: str, signer: Issued, cert: str) -> dict:
        token = uuid.uuid4().hex * 2
        self.tokens[token] = topic_arn
        message = {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": topic_arn,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.",
            "SubscribeURL": (
                f"{self.origin}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
            ),
            "Timestamp": "2026-11-28T01:00:00.000Z",
            "SigningCertURL": self.cert_url(cert),
        }
        return sign(message, signer, "2")


def sign(message: dict[str, Any], signer: Issued, version: str) -> dict[str, Any]:
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS v1 is SHA1
    signature = signer.key.sign(canonical_string(message), padding.PKCS1v15(), digest)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
    }


def _handler(fake: FakeSns) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            fake.requests.append(self.path)
            parts = urlsplit(self.path)
            if parts.path in fake.files:
                self._send(200, fake.files[parts.path], "application/x-x509-ca-cert")
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/" and query.get("Action") == "ConfirmSubscription":
                self._confirm(query)
                return
            self._send(404, b"not found", "text/plain")

        def _confirm(self, query: dict[str, str]) -> None:
            topic = fake.tokens.get(query.get("Token", ""))
            if fake.confirm_status != 200:
                self._send(fake.confirm_status, b"<Error/>", "text/xml")
            elif topic is None or topic != query.get("TopicArn"):
                body = (
                    f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
                    "<Code>InvalidParameter</Code><Message>Invalid token</Message></Error>"
                    "</ErrorResponse>"
                )
                self._send(400, body.encode(), "text/xml")
            else:
                arn = f"{topic}:{uuid.uuid4()}"
                body = (
                    f'<ConfirmSubscriptionResponse xmlns="{XMLNS}"><ConfirmSubscriptionResult>'
                    f"<SubscriptionArn>{arn}</SubscriptionArn></ConfirmSubscriptionResult>"
                    f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
                    "</ConfirmSubscriptionResponse>"
                )
                self._send(200, body.encode(), "text/xml")

    return Handler


def start() -> FakeSns:
    """Serve on a free port until ``fake.server.shutdown()``."""
    fake = FakeSns(server=ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
    fake.server.RequestHandlerClass = _handler(fake)
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake
