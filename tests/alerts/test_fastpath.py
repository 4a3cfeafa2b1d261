"""The webhook's fast path (alerts/fastpath.py) through the WSGI application `opsdesk serve`
runs (jobs/wsgi.py): calls it can take are answered before Django exactly as Django answers
them, and every other call reaches Django with its body, written once."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.utils import translation

from opsdesk.alerts.enums import DeadLetterReason
from opsdesk.alerts.fastpath import WebhookFastPath
from opsdesk.alerts.models import Alert, DeadLetter, Integration
from opsdesk.alerts.sources.base import hmac_signature
from opsdesk.jobs.wsgi import application, django_application
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.alerts.test_ingest import am_alert, am_body
from tests.alerts.test_webhook import GENERIC_ALERT

# Transactional: the WSGI application closes connections as it would in production
# (close_old_connections), which a test inside a transaction cannot survive.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def call(
    app: Any,
    integration: Integration,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    length: bool = True,
    scheme: str = "http",
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/integrations/{integration.kind}/{integration.token}/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": scheme,
        "wsgi.errors": sys.stderr,
    }
    if length:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[tuple[str, list[tuple[str, str]]]] = []
    out = b"".join(app(environ, lambda status, headers, *_: started.append((status, headers))))
    status, header_list = started[0]
    return status, dict(header_list), out


@pytest.fixture
def djangos_turns() -> Iterator[list[object]]:
    """Each call Django itself handled (its request_started signal)."""
    seen: list[object] = []

    def count(**kwargs: object) -> None:
        seen.append(kwargs)

    request_started.connect(count)
    yield seen
    request_started.disconnect(count)


def _body(*alerts: dict[str, Any]) -> bytes:
    return json.dumps(am_body(*alerts)).encode()


def _without_length(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Content-Length"}


def test_a_repeat_is_answered_before_django_as_django_answers_it(make_integration, djangos_turns):
    integration = make_integration("alertmanager")
    body = _body(am_alert())
    assert call(application, integration, body)[0] == "200 OK"  # new: opened before Django
    assert djangos_turns == []
    by_django = call(django_application, integration, body)
    by_fast_path = call(application, integration, body)
    assert len(djangos_turns) == 1  # only the call made to Django's own application
    assert by_fast_path[0] == by_django[0] == "200 OK"
    assert by_fast_path[2] == by_django[2]
    assert json.loads(by_fast_path[2]) == {
        "created": 0,
        "updated": 1,
        "incidents": [],
        "subscription": False,
    }
    assert _without_length(by_fast_path[1]) == _without_length(by_django[1])
    assert by_fast_path[1]["Content-Length"] == str(len(by_fast_path[2]))
    assert Alert.objects.get().count == 3


def test_https_answers_carry_the_same_security_headers(make_integration, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    django_app = WSGIHandler()  # Django's middleware reads these settings when it loads
    fast_app = WebhookFastPath(django_app)
    integration = make_integration("alertmanager")
    body = _body(am_alert())
    call(fast_app, integration, body, scheme="https")
    by_django = call(django_app, integration, body, scheme="https")
    by_fast_path = call(fast_app, integration, body, scheme="https")
    assert by_fast_path[1]["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert _without_length(by_fast_path[1]) == _without_length(by_django[1])
    settings.SECURE_SSL_REDIRECT = True  # plain HTTP: Django redirects, not the fast path
    django_app = WSGIHandler()
    assert call(WebhookFastPath(django_app), integration, body)[0].startswith("301")
    assert Alert.objects.get().count == 3


def test_a_new_alert_opens_its_incident_in_the_callers_language(make_integration, djangos_turns):
    integration = make_integration("alertmanager", group_by=["instance"])
    status, _, out = call(application, integration, _body(am_alert(instance="web-1")))
    assert status == "200 OK" and djangos_turns == []
    answer = json.loads(out)
    incident = Ticket.objects.get()
    assert answer == {
        "created": 1,
        "updated": 0,
        "incidents": [incident.reference],
        "subscription": False,
    }
    by_django = json.loads(call(django_application, integration, _body(am_alert(instance="x")))[2])
    assert sorted(by_django) == sorted(answer) and by_django["created"] == 1
    firing = TimelineEvent.objects.get(ticket=incident, kind="system")
    assert firing.body.startswith("Alert firing: HostDown on web-1")
    call(application, integration, _body(am_alert(instance="web-2")), {"Accept-Language": "ko"})
    korean = TimelineEvent.objects.get(ticket__subject="HostDown on web-2", kind="system")
    assert not korean.body.startswith("Alert firing")
    # The caller's language was the call's alone.
    assert translation.get_language() == "en"


def test_a_call_mixing_repeats_and_a_new_alert_counts_each_repeat_once(make_integration):
    integration = make_integration("alertmanager", group_by=["instance"])
    call(application, integration, _body(am_alert(instance="web-1"), am_alert(instance="web-2")))
    mixed = _body(
        am_alert(instance="web-1"), am_alert(instance="web-2"), am_alert(instance="web-3")
    )
    status, _, out = call(application, integration, mixed)
    assert status == "200 OK"
    assert json.loads(out)["created"] == 1 and json.loads(out)["updated"] == 2
    counts = dict(Alert.objects.values_list("labels__instance", "count"))
    assert counts == {"web-1": 2, "web-2": 2, "web-3": 1}
    # All repeats: the fast path counts them in one transaction.
    status, _, out = call(application, integration, mixed)
    assert json.loads(out)["updated"] == 3
    assert set(Alert.objects.values_list("count", flat=True)) == {3, 2}


def test_refused_calls_reach_django_and_are_dead_lettered_once(make_integration, djangos_turns):
    integration = make_integration("generic", hmac_secret="s3cret")
    body = json.dumps(GENERIC_ALERT).encode()
    signed = {"X-OpsDesk-Signature": "sha256=" + hmac_signature("s3cret", body)}
    assert call(application, integration, body, signed)[0] == "200 OK"
    assert call(application, integration, body, signed)[0] == "200 OK"  # a repeat
    assert Alert.objects.get().count == 2
    bad = {"X-OpsDesk-Signature": "sha256=" + "0" * 64}
    assert call(application, integration, body, bad)[0].startswith("401")
    assert call(application, integration, body)[0].startswith("401")  # unsigned
    unknown = Integration(kind="generic", token="no-such-token")
    assert call(application, unknown, body)[0].startswith("404")
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == sorted(
        [
            DeadLetterReason.BAD_SIGNATURE,
            DeadLetterReason.BAD_SIGNATURE,
            DeadLetterReason.UNKNOWN_TOKEN,
        ]
    )
    assert Alert.objects.get().count == 2


def test_malformed_bodies_and_bodies_without_length_reach_django(make_integration, settings):
    integration = make_integration("alertmanager")
    assert call(application, integration, b"{not json")[0].startswith("422")
    assert DeadLetter.objects.get().reason == DeadLetterReason.MALFORMED
    body = _body(am_alert())
    assert call(application, integration, body, length=False)[0].startswith("422")  # empty
    assert call(application, integration, body)[0] == "200 OK"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    assert call(application, integration, body)[0].startswith("400")  # too large for Django
    assert Alert.objects.get().count == 1


def test_a_failing_fast_path_leaves_the_call_to_django(make_integration, monkeypatch, caplog):
    integration = make_integration("alertmanager")
    body = _body(am_alert())
    call(application, integration, body)

    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug in the shortcut")

    monkeypatch.setattr("opsdesk.alerts.fastpath.webhook_accept", broken)
    status, _, out = call(application, integration, body)
    assert status == "200 OK" and json.loads(out)["updated"] == 1
    assert Alert.objects.get().count == 2
    assert "fast path failed" in caplog.text
