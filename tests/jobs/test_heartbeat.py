from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from opsdesk.core.clock import now
from opsdesk.jobs.models import WorkerHeartbeat
from opsdesk.jobs.selectors import health_check
from opsdesk.jobs.services import heartbeat_beat, heartbeat_prune, heartbeat_remove
from opsdesk.jobs.tasks import heartbeat_prune_task

pytestmark = pytest.mark.django_db


def _beat(worker_id: str = "host-1-abc", *, ago: timedelta = timedelta(0)) -> WorkerHeartbeat:
    heartbeat = heartbeat_beat(
        worker_id=worker_id, hostname="host", pid=1234, started_at=now() - timedelta(hours=1)
    )
    if ago:
        WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(last_seen_at=now() - ago)
        heartbeat.refresh_from_db()
    return heartbeat


def test_beat_creates_then_updates_one_row_per_worker():
    first = _beat(ago=timedelta(minutes=5))
    second = _beat()
    assert WorkerHeartbeat.objects.count() == 1
    assert second.pk == first.pk
    assert second.last_seen_at > first.last_seen_at
    _beat("host-2-def")
    assert WorkerHeartbeat.objects.count() == 2


def test_remove_deletes_only_that_worker():
    _beat("a")
    _beat("b")
    assert heartbeat_remove(worker_id="a") == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["b"]


def test_prune_forgets_workers_gone_for_a_day():
    _beat("fresh")
    _beat("hours", ago=timedelta(hours=5))
    _beat("days", ago=timedelta(days=2))
    assert heartbeat_prune() == 1
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"fresh", "hours"}


def test_prune_task_runs_the_service():
    _beat("days", ago=timedelta(days=3))
    _beat("fresh")
    assert heartbeat_prune_task.call() == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["fresh"]


def test_health_without_any_worker_fails():
    report = health_check()
    assert report["status"] == "fail"
    assert report["database"] == "ok"
    assert report["worker"] == "no worker has started"


@override_settings(OPSDESK={"WORKER_HEARTBEAT_STALE_SECONDS": 60})
def test_health_with_fresh_worker_is_ok_and_stale_one_fails():
    _beat("w", ago=timedelta(seconds=10))
    assert health_check()["status"] == "ok"
    WorkerHeartbeat.objects.update(last_seen_at=now() - timedelta(seconds=61))
    report = health_check()
    assert report["status"] == "fail"
    assert report["worker"].startswith("last heartbeat ")


def test_one_fresh_worker_among_stale_ones_is_enough():
    _beat("old", ago=timedelta(hours=1))
    _beat("new")
    assert health_check()["status"] == "ok"


def test_healthz_view_status_codes(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"] == "no worker has started"
    _beat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["worker"] == "ok"
    assert client.post("/healthz").status_code == 405
