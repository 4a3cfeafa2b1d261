"""A phone call, end to end in a real headless Chromium: log in, log the call, assign."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from opsdesk.intake.services import call_incoming
from opsdesk.tenancy.services import staff_availability_set
from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.conftest import require_server
from tests.factories import make_contact, make_contract, make_org, make_staff, make_ticket, team

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(
    os.environ.get("OPSDESK_E2E_SCREENSHOTS") or Path(tempfile.gettempdir()) / "opsdesk-e2e"
)
PASSWORD = "pw-Strong-123"
# live_server flushes the database after each test; serialized_rollback brings back the
# teams and routing rules that migrations seed.


@pytest.fixture
def browser_page():
    require_server(Path(CHROMIUM).exists(), "chromium not installed (apt-get install chromium)")
    # Playwright runs an event loop in this thread; Django's ORM calls in the test are sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale=os.environ.get("OPSDESK_E2E_LOCALE", "en-GB"),
            viewport={"width": 1400, "height": 1000},
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_agent_logs_a_call_creates_a_ticket_and_assigns_it(live_server, browser_page):
    ops = team("service-operations")
    agent = make_staff(team=ops, password=PASSWORD)
    colleague = make_staff(team=ops)
    # Away from round-robin, so the new ticket is not already theirs; still assignable by hand.
    staff_availability_set(user=colleague, is_available=False)
    org = make_org("Hanbit Cloud Demo", phones=("02-0000-1000",))
    caller = make_contact(org, phones=("010-0000-0001",))  # stored as +821000000001
    make_contract(org, ("iaas",))
    earlier = make_ticket(
        org, contract=org.contracts.first(), contact=caller, subject="Backup job failed"
    )

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav.mainnav a[href='/calls/new/']")
    page.wait_for_url("**/calls/new/")
    page.fill("#id_number", "+82 10 0000 0001")  # another format than stored
    recognised = page.locator("#caller-recognised")
    recognised.wait_for()
    assert caller.name in recognised.inner_text()
    assert earlier.reference in page.locator("#caller").inner_text()

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.fill("#id_notes", "Web tier returns 502 since 09:10; customer restarted nothing.")
    page.fill("#id_duration", "4:30")
    page.check("input[name=target][value=new]")
    page.fill("#id_subject", "Web tier 502 errors")
    page.select_option("#id_kind", "incident")
    page.select_option("#id_priority", "high")
    page.screenshot(path=str(SCREENSHOT_DIR / "call.png"), full_page=True)
    page.click("#call-submit")
    page.wait_for_url("**/tickets/INC-*/")

    ticket = Ticket.objects.get(subject="Web tier 502 errors")
    assert page.url.endswith(f"/tickets/{ticket.reference}/")
    page.select_option("#id_assign-assignee", str(colleague.pk))
    page.click("#assign-form button.primary")
    page.locator("#timeline .ev-assigned").wait_for()

    timeline = page.locator("#timeline")
    assert timeline.locator(".ev-created").count() == 1
    assert timeline.locator(".ev-call").count() == 1
    assert "4:30" in timeline.locator(".ev-call").inner_text()
    assert colleague.staff_profile.display_name in timeline.locator(".ev-assigned").inner_text()
    assert colleague.staff_profile.display_name in page.locator("#assignee-name").inner_text()

    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.CALL, EventKind.ASSIGNED]
    page.screenshot(path=str(SCREENSHOT_DIR / "ticket.png"), full_page=True)
    page.click("nav.mainnav a[href='/']")
    assert ticket.reference in page.locator("table.grid").inner_text()
    page.screenshot(path=str(SCREENSHOT_DIR / "queue.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_incoming_call_notice_opens_the_call_screen(live_server, browser_page):
    ops = team("service-operations")
    agent = make_staff(team=ops, password=PASSWORD)
    org = make_org("Hanbit Cloud Demo")
    caller = make_contact(org, phones=("010-0000-0002",))
    contract = make_contract(org, ("consulting",))

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # The organisation picker on the new-ticket form reloads its contacts and contracts.
    page.click("nav.mainnav a[href='/tickets/new/']")
    page.select_option("#id_organisation", org.code)
    page.locator(f"#id_contract option[value='{contract.pk}']").wait_for(state="attached")
    assert caller.name in page.locator("#id_contact").inner_text()

    page.click("nav.mainnav a[href='/']")
    call_incoming(number="01000000002")
    notice = page.locator("#notices .notice-incoming_call")
    notice.wait_for()
    assert caller.name in notice.inner_text()
    notice.locator("a.notice-link").click()
    page.wait_for_url("**/calls/new/?number=*")
    page.locator("#caller-recognised").wait_for()
    assert caller.name in page.locator("#caller-recognised").inner_text()
    # The notice is not shown again on the next screen, even after a poll.
    with page.expect_response(lambda r: "/notices/poll" in r.url) as polled:
        pass
    assert polled.value.ok
    page.wait_for_load_state("networkidle")
    assert page.locator("#notices .notice").count() == 0
