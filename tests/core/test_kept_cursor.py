"""core.rows.kept_cursor: one cursor for a hot path's statements on PostgreSQL, with
everything Django does per statement still done."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from opsdesk.core.rows import kept_cursor
from opsdesk.tenancy.models import Organisation
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def _one(sql: str, params: list[object]) -> tuple[object, ...]:
    with kept_cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[object, ...] = cursor.fetchone()
        return row


def _kept() -> object:
    with kept_cursor() as cursor:
        return cursor


@pytest.fixture
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite gets a new cursor per statement")


@pytest.mark.usefixtures("_postgresql")
def test_statements_share_one_cursor_and_still_pass_the_execute_wrappers():
    assert _one("SELECT %s", [1]) == (1,)
    first = _kept()
    seen: list[str] = []

    def spy(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert _one("SELECT %s + 1", [1]) == (2,)
    assert _kept() is first
    assert seen == ["SELECT %s + 1"]


@pytest.mark.usefixtures("_postgresql")
def test_errors_are_django_errors_and_a_broken_transaction_is_refused():
    org = make_org()
    table = Organisation._meta.db_table
    insert = f"INSERT INTO {table} (code, name) VALUES (%s, %s) RETURNING id"  # noqa: S608
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic():  # django.db's error
            _one(insert, [org.code, "again"])
        assert _one("SELECT %s", [1]) == (1,)  # the savepoint rolled back: carry on
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            _one(insert, [org.code, "again"])
        with pytest.raises(TransactionManagementError):  # Django's check, per statement
            _one("SELECT %s", [1])
    assert Organisation.objects.filter(code=org.code).count() == 1


@pytest.mark.usefixtures("_postgresql")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_closed_connection_gets_a_new_cursor():
    assert _one("SELECT %s", [2]) == (2,)
    first = _kept()
    connection.close()
    assert _one("SELECT %s", [3]) == (3,)
    assert _kept() is not first


def test_while_queries_are_captured_each_statement_is_logged():
    with CaptureQueriesContext(connection) as captured:
        _one("SELECT %s", [5])
        _one("SELECT %s", [6])
    assert [q["sql"] for q in captured.captured_queries][-2:] == ["SELECT 5", "SELECT 6"]


def test_sqlite_keeps_no_cursor():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's case")
    assert _kept() is not _kept()  # a cursor left on a SELECT would hold its read lock
