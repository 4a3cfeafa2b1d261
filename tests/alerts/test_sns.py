"""AWS SNS (CloudWatch integrations): signatures checked against a certificate that must
chain to a trusted root, and subscriptions confirmed automatically — against a fake SNS
on 127.0.0.1 with a PKI made for the test (tests/alerts/fake_sns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from opsdesk.alerts.enums import DeadLetterReason, SubscriptionStatus
from opsdesk.alerts.models import Alert, DeadLetter, SnsSubscription
from opsdesk.alerts.sources import sns
from opsdesk.alerts.sources.base import SignatureError, SourceError
from opsdesk.core.clock import frozen_at
from tests.alerts import fake_sns
from tests.alerts.conftest import corpus_json, webhook
from tests.alerts.fake_sns import FakeSns, Issued, issue, sign

pytestmark = pytest.mark.django_db

TOPIC = f"arn:aws:sns:eu-west-1:{fake_sns.ACCOUNT}:opsdesk-alarms"


class Pki:
    def __init__(self, fake: FakeSns) -> None:
        self.root = issue("OpsDesk Test Root CA", ca=True)
        self.intermediate = issue("OpsDesk Test SNS CA", issuer=self.root, ca=True)
        # Like AWS's: the PEM holds only the signing certificate; its issuer is found
        # through the "CA Issuers" link.
        self.signer = issue(
            "sns.amazonaws.com",
            issuer=self.intermediate,
            issuer_url=f"{fake.origin}/issuers/intermediate.cer",
        )
        fake.files["/issuers/intermediate.cer"] = self.intermediate.der
        fake.files["/certs/signer.pem"] = self.signer.pem


@pytest.fixture(scope="module")
def sns_server() -> Iterator[FakeSns]:
    server = fake_sns.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def sns_pki(sns_server) -> Pki:
    return Pki(sns_server)  # RSA keys take a moment: made once for the module


@pytest.fixture
def fake(sns_server, settings) -> FakeSns:
    sns_server.requests.clear()
    sns_server.confirm_status = 200
    settings.OPSDESK_SNS_TEST_ORIGINS = [sns_server.origin]
    return sns_server


@pytest.fixture
def pki(fake, sns_pki, settings, tmp_path) -> Pki:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(sns_pki.root.pem)
    settings.OPSDESK_SNS_TRUST_ROOTS = str(roots)
    return sns_pki


def notification(fake: FakeSns, signer: Issued, cert: str = "signer", version: str = "2"):
    message = corpus_json("aws-sns-cloudwatch/alerta/cloudwatch_notification.json")
    message["SigningCertURL"] = fake.cert_url(cert)
    return sign(message, signer, version)


def fetches(fake: FakeSns, prefix: str) -> int:
    return sum(path.startswith(prefix) for path in fake.requests)


@pytest.mark.parametrize("version", ["1", "2"])
def test_signature_checked_through_the_chain_and_cached(make_integration, fake, pki, version):
    integration = make_integration("cloudwatch", verify_signature=True)
    signed = notification(fake, pki.signer, version=version)
    response = webhook(integration, signed)
    assert response.status_code == 200, response.content
    assert webhook(integration, signed).status_code == 200
    assert Alert.objects.get().count == 2
    # the certificate and its issuer were fetched once
    assert (fetches(fake, "/certs/"), fetches(fake, "/issuers/")) == (1, 1)
    tampered = {**signed, "Subject": "OK: nothing to see"}
    assert webhook(integration, tampered).status_code == 401
    assert DeadLetter.objects.get().reason == DeadLetterReason.BAD_SIGNATURE


def test_intermediates_may_come_in_the_pem(make_integration, fake, pki):
    signer = issue("sns.amazonaws.com", issuer=pki.intermediate)  # no CA Issuers link
    fake.files["/certs/bundle.pem"] = signer.pem + pki.intermediate.pem
    fake.files["/certs/alone.pem"] = signer.pem
    integration = make_integration("cloudwatch", verify_signature=True)
    assert webhook(integration, notification(fake, signer, "bundle")).status_code == 200
    # without the intermediate the chain cannot be built
    assert webhook(integration, notification(fake, signer, "alone")).status_code == 401


def test_expired_signing_certificate_is_refused_and_kept(make_integration, fake, pki):
    at = datetime.now(UTC)
    expired = issue(
        "sns.amazonaws.com",
        issuer=pki.intermediate,
        not_before=at - timedelta(days=60),
        not_after=at - timedelta(days=1),
        issuer_url=f"{fake.origin}/issuers/intermediate.cer",
    )
    fake.files["/certs/expired.pem"] = expired.pem
    integration = make_integration("cloudwatch", verify_signature=True)
    response = webhook(integration, notification(fake, expired, "expired"))
    assert response.status_code == 401
    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetterReason.BAD_SIGNATURE
    assert "not trusted" in letter.detail
    assert not Alert.objects.exists()


def test_certificate_of_an_untrusted_ca_is_refused(make_integration, fake, pki):
    stranger_root = issue("Somebody Else's Root", ca=True)
    stranger = issue("sns.amazonaws.com", issuer=stranger_root)
    fake.files["/certs/stranger.pem"] = stranger.pem + stranger_root.pem
    fake.files["/certs/selfsigned.pem"] = stranger_root.pem
    integration = make_integration("cloudwatch", verify_signature=True)
    assert webhook(integration, notification(fake, stranger, "stranger")).status_code == 401
    assert webhook(integration, notification(fake, stranger_root, "selfsigned")).status_code == 401
    assert DeadLetter.objects.filter(reason=DeadLetterReason.BAD_SIGNATURE).count() == 2
    assert not Alert.objects.exists()


def test_a_cached_certificate_that_expires_is_refused(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    signed = notification(fake, pki.signer)
    assert webhook(integration, signed).status_code == 200
    later = pki.signer.cert.not_valid_after_utc + timedelta(minutes=1)
    with frozen_at(later):
        assert webhook(integration, signed).status_code == 401


def test_certificate_url_must_be_an_sns_host(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    signed = notification(fake, pki.signer)
    signed["SigningCertURL"] = "http://127.0.0.1:9/certs/signer.pem"  # not an allowed origin
    assert webhook(integration, signed).status_code == 401
    assert fake.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sqs.eu-west-1.amazonaws.com/cert.pem",
    ],
)
def test_certificate_urls_outside_aws_sns_are_refused(url):
    with pytest.raises(SignatureError):
        sns.cert_url_check(url)


def test_aws_certificate_urls_pass_the_host_check():
    sns.cert_url_check("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem")
    sns.cert_url_check("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem")


# --- subscriptions -------------------------------------------------------------------------


def test_subscription_is_confirmed_automatically(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    message = fake.subscription_confirmation(TOPIC, pki.signer, "signer")
    response = webhook(integration, message)
    assert response.status_code == 200, response.content
    assert response.json()["subscription"] is True
    subscription = SnsSubscription.objects.get()
    assert subscription.status == SubscriptionStatus.CONFIRMED
    assert subscription.subscription_arn.startswith(TOPIC + ":")
    assert subscription.confirmed_at is not None and subscription.attempts == 1
    assert fetches(fake, "/?Action=ConfirmSubscription") == 1
    # SNS delivering the same confirmation again: nothing more to do
    assert webhook(integration, message).status_code == 200
    assert fetches(fake, "/?Action=ConfirmSubscription") == 1
    assert not Alert.objects.exists()


def test_unreachable_sns_answers_503_so_sns_sends_it_again(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    message = fake.subscription_confirmation(TOPIC, pki.signer, "signer")
    fake.confirm_status = 500
    response = webhook(integration, message)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    failed = SnsSubscription.objects.get()
    assert (failed.status, failed.attempts) == (SubscriptionStatus.FAILED, 1)
    assert "500" in failed.last_error
    fake.confirm_status = 200
    assert webhook(integration, message).status_code == 200
    confirmed = SnsSubscription.objects.get()
    assert (confirmed.status, confirmed.attempts, confirmed.last_error) == (
        SubscriptionStatus.CONFIRMED,
        2,
        "",
    )


def test_subscribe_url_outside_sns_is_refused_and_never_visited(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    message = fake.subscription_confirmation(TOPIC, pki.signer, "signer")
    message["SubscribeURL"] = "http://127.0.0.1:9/?Action=ConfirmSubscription&Token=x"
    response = webhook(integration, sign(message, pki.signer, "2"))
    assert response.status_code == 422
    assert DeadLetter.objects.get().reason == DeadLetterReason.MALFORMED
    assert not SnsSubscription.objects.exists()
    assert fetches(fake, "/?Action") == 0


@pytest.mark.parametrize(
    ("url", "topic"),
    [
        (  # another region than the topic's
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
            "arn:aws:sns:eu-west-1:123456789012:alarms",
        ),
        (  # not the confirm action
            "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
            "arn:aws:sns:eu-west-1:123456789012:alarms",
        ),
        (
            "https://sns.eu-west-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
            "arn:aws:sns:eu-west-1:123456789012:alarms",
        ),
        (
            "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
            "arn:aws:sns:eu-west-1:123456789012:alarms",
        ),
        (  # China regions live under amazonaws.com.cn
            "https://sns.cn-north-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
            "arn:aws-cn:sns:cn-north-1:123456789012:alarms",
        ),
        ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription", "not-an-arn"),
    ],
)
def test_subscribe_url_must_be_sns_in_the_topics_region(url, topic):
    with pytest.raises(SourceError):
        sns.subscribe_url_check(url, topic)


def test_subscribe_urls_of_aws_pass():
    sns.subscribe_url_check(
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=t&Token=x",
        "arn:aws:sns:eu-west-1:123456789012:alarms",
    )
    sns.subscribe_url_check(
        "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=x",
        "arn:aws-cn:sns:cn-north-1:123456789012:alarms",
    )


def test_unsigned_confirmation_is_recorded_not_confirmed(make_integration, fake, pki):
    integration = make_integration("cloudwatch")  # signature checks off
    message = fake.subscription_confirmation(TOPIC, pki.signer, "signer")
    assert webhook(integration, message).status_code == 200
    subscription = SnsSubscription.objects.get()
    assert subscription.status == SubscriptionStatus.PENDING
    assert "by hand" in subscription.last_error
    assert fetches(fake, "/?Action") == 0


def test_unsubscribe_confirmation_is_recorded(make_integration, fake, pki):
    integration = make_integration("cloudwatch", verify_signature=True)
    webhook(integration, fake.subscription_confirmation(TOPIC, pki.signer, "signer"))
    goodbye = fake.subscription_confirmation(TOPIC, pki.signer, "signer")
    goodbye["Type"] = "UnsubscribeConfirmation"
    response = webhook(integration, sign(goodbye, pki.signer, "2"))
    assert response.status_code == 200, response.content
    subscription = SnsSubscription.objects.get()
    assert subscription.status == SubscriptionStatus.UNSUBSCRIBED
    assert subscription.unsubscribed_at is not None
    # its SubscribeURL would subscribe again: visited once only, for the confirmation
    assert fetches(fake, "/?Action=ConfirmSubscription") == 1
