"""The per-process configuration cache: a stamp read at most once per scope and per
CONFIG_CACHE_SECONDS, a save in this process seen at once, another's within the interval."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.core.configcache import config_cached, config_scope, config_stamp
from opsdesk.tenancy.models import Team

pytestmark = pytest.mark.django_db


def _team_names() -> dict[str, str]:
    config_stamp()
    return config_cached(("test-teams",), lambda: dict(Team.objects.values_list("slug", "name")))


@pytest.fixture
def interval(settings):
    # tests/conftest.py sets 0 (check on every use) for stable query counts elsewhere.
    settings.OPSDESK = {**settings.OPSDESK, "CONFIG_CACHE_SECONDS": 60}


def test_with_no_interval_the_stamp_is_read_per_use_but_once_per_scope():
    _team_names()
    with CaptureQueriesContext(connection) as outside:
        _team_names()
        _team_names()
    assert len(outside) == 2  # a stamp check each, nothing rebuilt
    with config_scope(), CaptureQueriesContext(connection) as inside:
        _team_names()
        _team_names()
    assert len(inside) == 1


def test_within_the_interval_nothing_is_read_and_a_save_here_is_seen_at_once(interval):
    _team_names()
    with CaptureQueriesContext(connection) as quiet:
        _team_names()
    assert len(quiet) == 0
    ops = Team.objects.get(slug="service-operations")
    ops.name = "Renamed desk"
    ops.save()  # the post_save signal drops this process's cache
    with CaptureQueriesContext(connection) as after:
        names = _team_names()
    assert names["service-operations"] == "Renamed desk"
    assert len(after) == 2  # the stamp, then the rebuild


def test_a_change_this_process_did_not_signal_is_seen_after_the_interval(settings):
    settings.OPSDESK = {**settings.OPSDESK, "CONFIG_CACHE_SECONDS": 0.2}
    _team_names()
    Team.objects.create(slug="new-desk", name="New desk", kind="first_line")
    assert "new-desk" in _team_names()  # the create's own signal
    # Another process's save, as it looks from here: the row and its updated_at change, and
    # no signal arrives in this process.
    later = Team.objects.get(slug="new-desk").updated_at.replace(year=2099)
    Team.objects.filter(slug="new-desk").update(name="Changed elsewhere", updated_at=later)
    assert _team_names()["new-desk"] == "New desk"  # still trusted within the interval
    time.sleep(0.25)
    assert _team_names()["new-desk"] == "Changed elsewhere"


def test_an_extra_value_comes_with_the_stamp_even_inside_a_scope():
    ops = Team.objects.get(slug="service-operations")
    sql = f"SELECT slug FROM {Team._meta.db_table} WHERE id = %s"  # noqa: S608
    with config_scope():
        first, _ = config_stamp()
        stamp, slug = config_stamp(extra=sql, params=[ops.pk])
    assert (stamp, slug) == (first, "service-operations")
