"""Real Prometheus and Alertmanager (Debian packages) against a live OpsDesk.

A tiny exporter started here serves ``opsdesk_probe_failing``; Prometheus alerts while it
is 1 and Alertmanager posts to the integration URL. Flipping it to 0 makes Prometheus
resolve the alert and Alertmanager send its resolved notification. The waits poll the
database with a generous deadline; nothing asserts on durations.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from opsdesk.alerts.models import Alert
from opsdesk.alerts.services import integration_create
from opsdesk.tickets.enums import Channel, Status
from opsdesk.tickets.models import Ticket
from tests.conftest import require_server
from tests.factories import make_org

# live_server flushes the database after the test; serialized_rollback restores seeded rows.
pytestmark = [
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
DEADLINE_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Probe:
    value = 1


class ExporterHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"# TYPE opsdesk_probe_failing gauge\nopsdesk_probe_failing {Probe.value}\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def exporter() -> Iterator[int]:
    Probe.value = 1
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ExporterHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def write_configs(directory: Path, *, exporter_port: int, am_port: int, webhook_url: str) -> None:
    (directory / "rules.yml").write_text(
        "groups:\n"
        "  - name: opsdesk-test\n"
        "    rules:\n"
        "      - alert: OpsDeskProbeFailing\n"
        "        expr: opsdesk_probe_failing > 0\n"
        "        labels: {severity: critical}\n"
        "        annotations: {summary: 'OpsDesk test probe is failing'}\n"
    )
    (directory / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{directory / 'rules.yml'}']\n"
        "alerting:\n"
        f"  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]\n"
        "scrape_configs:\n"
        "  - job_name: probe\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n"
    )
    (directory / "alertmanager.yml").write_text(
        "global: {resolve_timeout: 5s}\n"
        "route:\n"
        "  receiver: opsdesk\n"
        "  group_by: [alertname]\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: opsdesk\n"
        f"    webhook_configs: [{{url: '{webhook_url}', send_resolved: true}}]\n"
    )


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            pass  # in-memory SQLite shared with the live server: its write holds the table
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"gave up waiting for {what}\n{tails}")


@pytest.fixture
def monitoring_stack(tmp_path: Path, exporter: int, live_server: Any) -> Iterator[dict[str, Any]]:
    if not (shutil.which(PROMETHEUS) and shutil.which(ALERTMANAGER)):
        require_server(
            False,
            "prometheus/alertmanager not installed: "
            "apt-get install prometheus prometheus-alertmanager",
        )
    organisation = make_org("Monitored Customer")
    integration = integration_create(
        kind="alertmanager", name="Prometheus CI", organisation=organisation
    )
    webhook_url = f"{live_server.url}/api/v1/integrations/alertmanager/{integration.token}/"
    prom_port, am_port = free_port(), free_port()
    write_configs(tmp_path, exporter_port=exporter, am_port=am_port, webhook_url=webhook_url)
    logs = [tmp_path / "alertmanager.log", tmp_path / "prometheus.log"]
    processes = [
        start(
            [
                ALERTMANAGER,
                f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            logs[0],
        ),
        start(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--rules.alert.resend-delay=1s",
            ],
            logs[1],
        ),
    ]
    try:
        yield {"integration": integration, "logs": logs}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def settled(read: Callable[[], Any]) -> Any:
    """Read once the live server's write has released the shared in-memory SQLite table."""
    for _ in range(40):
        try:
            return read()
        except OperationalError:
            time.sleep(0.25)
    return read()


def test_alertmanager_webhook_opens_and_resolves_an_incident(monitoring_stack):
    logs = monitoring_stack["logs"]
    wait_for(lambda: Ticket.objects.exists(), "the incident from Alertmanager", logs)
    incident = settled(lambda: Ticket.objects.get())
    assert incident.channel == Channel.MONITORING
    assert incident.subject == "OpsDesk test probe is failing"
    alert = settled(lambda: Alert.objects.get())
    assert alert.labels["alertname"] == "OpsDeskProbeFailing"
    assert len(alert.fingerprint) == 16  # Alertmanager's own fingerprint

    Probe.value = 0
    wait_for(
        lambda: Ticket.objects.filter(status=Status.RESOLVED).exists(),
        "the resolved notification",
        logs,
    )
    assert settled(lambda: Ticket.objects.count()) == 1
    assert settled(lambda: Alert.objects.get().status) == "resolved"
