"""iCal: a rotation imported as overrides (file, URL, API; all or nothing), and signed feed
links that calendar apps can subscribe to without a session, revocable per person."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from opsdesk.core.clock import frozen_at
from opsdesk.oncall.feeds import feed_key_rotate, feed_url
from opsdesk.oncall.ical import schedule_ical
from opsdesk.oncall.ical_import import IcalImportError, schedule_ical_import
from opsdesk.oncall.models import Override
from opsdesk.oncall.selectors import schedule_who
from opsdesk.oncall.services import schedule_create
from tests.api.conftest import client_for
from tests.factories import make_staff, team
from tests.oncall.helpers import seoul, weekly_oncall

pytestmark = pytest.mark.django_db

NOW = seoul(2026, 12, 1, 9)  # a Tuesday


def _calendar(*events: str) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Rota//EN", *events, "END:VCALENDAR"]
    )
    return (body + "\r\n").encode()


def _event(uid: str, *lines: str) -> str:
    return "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z", *lines, "END:VEVENT"]
    )


@pytest.fixture
def people():
    ops = team("service-operations")
    kim = make_staff(team=ops, role="engineer")
    kim.email = "kim.oncall@opsdesk.test"
    kim.save(update_fields=["email"])
    lee = make_staff(team=ops, role="engineer")
    return ops, kim, lee


def _rota(kim, lee) -> bytes:
    return _calendar(
        # An attendee by email address.
        _event(
            "a1",
            "SUMMARY:Night duty",
            "DTSTART;TZID=Asia/Seoul:20261201T180000",
            "DTEND;TZID=Asia/Seoul:20261202T090000",
            f"ATTENDEE;CN=Kim:mailto:{kim.email.upper()}",
        ),
        # A summary naming a username; weekly, one week skipped, one week moved.
        _event(
            "w1",
            f"SUMMARY:Weekend on call: {lee.username}",
            "DTSTART;TZID=Asia/Seoul:20261205T090000",
            "DTEND;TZID=Asia/Seoul:20261207T090000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Asia/Seoul:20261212T090000",
        ),
        _event(
            "w1",
            f"SUMMARY:Weekend on call: {lee.username}",
            "RECURRENCE-ID;TZID=Asia/Seoul:20261219T090000",
            "DTSTART;TZID=Asia/Seoul:20261219T120000",
            "DTEND;TZID=Asia/Seoul:20261221T090000",
        ),
        # An all-day event: that day, midnight to midnight in the schedule's zone.
        _event("d1", f"SUMMARY:{kim.email}", "DTSTART;VALUE=DATE:20261225"),
        # Cancelled, and already over: both skipped.
        _event(
            "c1",
            "STATUS:CANCELLED",
            f"SUMMARY:{kim.username}",
            "DTSTART:20261203T000000Z",
            "DTEND:20261203T060000Z",
        ),
        _event(
            "p1", f"SUMMARY:{kim.username}", "DTSTART:20261120T000000Z", "DTEND:20261121T000000Z"
        ),
        # Who a past event names does not matter (someone who has left).
        _event(
            "p2",
            "SUMMARY:Night",
            "DTSTART:20261110T000000Z",
            "DTEND:20261111T000000Z",
            "ATTENDEE:mailto:former@elsewhere.test",
        ),
    )


def _spans(schedule) -> list[tuple[str, Any, Any]]:
    return [
        (o.user.username, o.starts_at, o.ends_at)
        for o in Override.objects.filter(schedule=schedule).order_by("starts_at", "id")
    ]


def test_import_turns_each_named_event_into_an_override(people):
    ops, kim, lee = people
    schedule = schedule_create(team=ops, name="imported", kind="on_call")
    with frozen_at(NOW):
        report = schedule_ical_import(schedule=schedule, data=_rota(kim, lee))
    assert (report.past, report.cancelled, report.existing) == (2, 1, 0)
    assert _spans(schedule) == [
        (kim.username, seoul(2026, 12, 1, 18), seoul(2026, 12, 2, 9)),
        (lee.username, seoul(2026, 12, 5, 9), seoul(2026, 12, 7, 9)),
        (lee.username, seoul(2026, 12, 19, 12), seoul(2026, 12, 21, 9)),  # moved
        (kim.username, seoul(2026, 12, 25), seoul(2026, 12, 26)),
        (lee.username, seoul(2026, 12, 26, 9), seoul(2026, 12, 28, 9)),
    ]
    assert schedule_who(schedule=schedule, at=seoul(2026, 12, 1, 23)) == [kim]
    assert schedule_who(schedule=schedule, at=seoul(2026, 12, 13, 10)) == []  # EXDATE
    override = Override.objects.filter(schedule=schedule, user=lee).first()
    assert override is not None and override.reason.startswith("iCal: Weekend on call")
    # Importing the same file again changes nothing.
    with frozen_at(NOW):
        again = schedule_ical_import(schedule=schedule, data=_rota(kim, lee))
    assert (len(again.created), again.existing) == (0, 5)
    assert Override.objects.filter(schedule=schedule).count() == 5


def test_unknown_people_are_reported_and_nothing_is_half_imported(people):
    ops, kim, lee = people
    schedule = schedule_create(team=ops, name="imported", kind="on_call")
    data = _calendar(
        _event(
            "ok", f"SUMMARY:{kim.username}", "DTSTART:20261202T000000Z", "DTEND:20261203T000000Z"
        ),
        _event(
            "x1",
            "SUMMARY:Night",
            "DTSTART:20261204T000000Z",
            "DTEND:20261205T000000Z",
            "ATTENDEE:mailto:stranger@elsewhere.test",
        ),
        _event(
            "x2", "SUMMARY:Somebody or other", "DTSTART:20261206T000000Z", "DTEND:20261207T000000Z"
        ),
        _event(
            "x3",
            f"SUMMARY:{kim.username} and {lee.username}",
            "DTSTART:20261208T000000Z",
            "DTEND:20261209T000000Z",
        ),
    )
    with frozen_at(NOW), pytest.raises(IcalImportError) as caught:
        schedule_ical_import(schedule=schedule, data=data)
    problems = caught.value.problems
    assert len(problems) == 3
    assert "stranger@elsewhere.test" in problems[0]
    assert "'Somebody or other'" in problems[1]
    assert Override.objects.filter(schedule=schedule).count() == 0
    with pytest.raises(Exception, match="not an iCalendar"):
        schedule_ical_import(schedule=schedule, data=b"hello")


def test_our_own_feed_imports_back_into_another_schedule(people):
    ops, kim, lee = people
    source = weekly_oncall(ops, [kim, lee], start=date(2026, 11, 30))
    target = schedule_create(team=ops, name="copy", kind="on_call")
    with frozen_at(NOW):
        feed = schedule_ical(schedule=source, start=NOW, end=NOW + timedelta(days=28))
        report = schedule_ical_import(schedule=target, data=feed)
    assert len(report.created) >= 4
    for day in range(0, 28, 3):
        at = NOW + timedelta(days=day, hours=5)
        assert schedule_who(schedule=target, at=at) == schedule_who(schedule=source, at=at)


@pytest.fixture
def served() -> Iterator[dict[str, bytes]]:
    """A calendar at http://127.0.0.1:PORT/rota.ics (a URL import)."""
    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files["base"] = f"http://127.0.0.1:{server.server_address[1]}".encode()
    try:
        yield files
    finally:
        server.shutdown()
        server.server_close()


def test_cli_imports_a_file_or_url_with_dry_run_and_reports_problems(
    people, tmp_path: Path, served
):
    ops, kim, lee = people
    schedule = schedule_create(team=ops, name="cli rota", kind="on_call")
    path = tmp_path / "rota.ics"
    path.write_bytes(_rota(kim, lee))
    out, err = StringIO(), StringIO()
    with frozen_at(NOW):
        call_command(
            "oncall",
            "import-ical",
            str(path),
            "--schedule",
            "cli rota",
            "--dry-run",
            stdout=out,
            stderr=err,
        )
    assert "would create 5 override(s)" in err.getvalue()
    assert out.getvalue().splitlines()[0] == f"{kim.username}\t2026-12-01 18:00\t2026-12-02 09:00"
    assert Override.objects.filter(schedule=schedule).count() == 0
    served["/rota.ics"] = _rota(kim, lee)
    url = served["base"].decode() + "/rota.ics"
    with frozen_at(NOW):
        call_command(
            "oncall",
            "import-ical",
            url,
            "--schedule",
            str(schedule.pk),
            stdout=StringIO(),
            stderr=(err := StringIO()),
        )
    assert "created 5 override(s)" in err.getvalue()
    assert Override.objects.filter(schedule=schedule).count() == 5
    path.write_bytes(
        _calendar(
            _event("x", "SUMMARY:Nobody", "DTSTART:20261204T000000Z", "DTEND:20261205T000000Z")
        )
    )
    with frozen_at(NOW), pytest.raises(CommandError, match="nothing imported: 1 problem"):
        call_command(
            "oncall",
            "import-ical",
            str(path),
            "--schedule",
            "cli rota",
            stdout=StringIO(),
            stderr=StringIO(),
        )


def test_api_upload_for_the_team_lead_only(people):
    ops, kim, lee = people
    schedule = schedule_create(team=ops, name="api rota", kind="on_call")
    lead = client_for(make_staff(team=ops, role="team_lead"))
    other = client_for(make_staff(team=team("service-support"), role="team_lead"))
    url = f"/api/v1/oncall/schedules/{schedule.pk}/ical"

    def upload(api, data: bytes, **form: Any):
        file = SimpleUploadedFile("rota.ics", data, content_type="text/calendar")
        return api.client.post(url, {"file": file, **form}, headers=api.headers)

    assert upload(other, _rota(kim, lee)).status_code == 403
    with frozen_at(NOW):
        dry = upload(lead, _rota(kim, lee), dry_run="true")
        assert dry.status_code == 200, dry.content
        assert dry.json()["dry_run"] is True and len(dry.json()["created"]) == 5
        assert Override.objects.filter(schedule=schedule).count() == 0
        response = upload(lead, _rota(kim, lee))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"][0]["username"] == kim.username
    assert (body["past"], body["cancelled"]) == (2, 1)
    bad = _calendar(
        _event(
            "x",
            "SUMMARY:Night",
            "DTSTART:20261204T000000Z",
            "DTEND:20261205T000000Z",
            "ATTENDEE:mailto:nobody@elsewhere.test",
        )
    )
    with frozen_at(NOW):
        refused = upload(lead, bad)
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["body", "file"] and "nobody@elsewhere.test" in problem["msg"]


# --- signed feed links -----------------------------------------------------------------


def _events(response) -> list[Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_signed_feed_links_work_without_a_session_and_are_revocable(people):
    ops, kim, lee = people
    schedule = weekly_oncall(ops, [kim, lee], start=date(2026, 11, 2))
    subscriber = make_staff(team=ops)
    anonymous = Client()
    schedule_link = feed_url(user=subscriber, scope="schedule", object_id=schedule.pk)
    person_link = feed_url(user=subscriber, scope="person", object_id=kim.pk)
    assert schedule_link.startswith("http")
    path = schedule_link.split("://", 1)[1].split("/", 1)[1]
    assert len(_events(anonymous.get("/" + path))) >= 8
    mine = _events(anonymous.get("/" + person_link.split("://", 1)[1].split("/", 1)[1]))
    assert mine and {str(e["X-OPSDESK-USERNAME"]) for e in mine} == {kim.username}
    # The signature of one schedule does not open another, and a made-up one opens nothing.
    other = schedule_create(team=ops, name="other", kind="on_site")
    swapped = "/" + path.replace(f"/schedule/{schedule.pk}.ics", f"/schedule/{other.pk}.ics")
    assert swapped != "/" + path and anonymous.get(swapped).status_code == 404
    forged = path.rsplit("/", 3)
    assert anonymous.get("/" + "/".join([forged[0], "0" * 40, *forged[2:]])).status_code == 404
    # New links revoke the old ones.
    feed_key_rotate(user=subscriber)
    assert anonymous.get("/" + path).status_code == 404
    fresh = feed_url(user=subscriber, scope="schedule", object_id=schedule.pk)
    fresh_path = "/" + fresh.split("://", 1)[1].split("/", 1)[1]
    assert anonymous.get(fresh_path).status_code == 200
    # Links die with the subscriber's staff access.
    subscriber.is_active = False
    subscriber.save(update_fields=["is_active"])
    assert anonymous.get(fresh_path).status_code == 404


def test_feeds_page_and_api_show_and_rotate_links(people, client):
    ops, kim, lee = people
    schedule = weekly_oncall(ops, [kim, lee], start=date(2026, 11, 2))
    client.force_login(kim)
    page = client.get("/oncall/feeds/")
    assert page.status_code == 200
    before = feed_url(user=kim, scope="schedule", object_id=schedule.pk)
    assert before in page.content.decode()
    assert client.post("/oncall/feeds/").status_code == 302
    assert feed_url(user=kim, scope="schedule", object_id=schedule.pk) != before
    api = client_for(kim)
    listed = api.get("/oncall/feeds").json()
    assert listed["person"] == feed_url(user=kim, scope="person", object_id=kim.pk)
    assert [s["id"] for s in listed["schedules"]] == [schedule.pk]
    rotated = api.post("/oncall/feeds/rotate", {}).json()
    assert rotated["person"] != listed["person"]
    assert "/oncall/feeds/" in client.get("/oncall/").content.decode()
