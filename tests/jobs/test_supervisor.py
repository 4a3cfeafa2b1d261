from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from opsdesk.jobs.supervisor import Child, Supervisor
from opsdesk.jobs.web import bind_in_use


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_gives_up_on_a_child_that_keeps_dying(capsys):
    flaky = Child(name="flaky thing", argv=_python("raise SystemExit(3)"))
    supervisor = Supervisor(children=[flaky], max_failures=3, backoff_base=0.01)
    assert supervisor.run() == 1
    assert flaky.failures == 3
    err = capsys.readouterr().err
    assert "the flaky thing exited 3 times in a row" in err
    assert "last exit code 3" in err


def test_restarts_a_child_that_died_and_stops_the_others():
    # The sleeper must be running and then stopped by the supervisor; the dying child
    # is restarted each time, until the supervisor gives up on it.
    sleeper = Child(name="sleeper", argv=_python("import time; time.sleep(60)"))
    dying = Child(name="dying", argv=_python("raise SystemExit(2)"))
    supervisor = Supervisor(children=[sleeper, dying], max_failures=2, backoff_base=0.01)
    assert supervisor.run() == 1
    assert dying.failures == 2
    assert sleeper.process is not None
    assert sleeper.process.returncode == -signal.SIGTERM


def test_stop_request_ends_children_and_returns_zero():
    sleeper = Child(name="sleeper", argv=_python("import time; time.sleep(60)"))
    calls = []

    def fake_sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 3:
            supervisor._request_stop(signal.SIGTERM, None)

    supervisor = Supervisor(children=[sleeper], sleep=fake_sleep)
    assert supervisor.run() == 0
    assert sleeper.process is not None
    assert sleeper.process.returncode == -signal.SIGTERM
    assert sleeper.failures == 0


def test_a_child_that_ran_long_enough_starts_its_failure_count_afresh():
    # healthy_after=0: every run counts as healthy, so failures never accumulate past 1
    # and the supervisor keeps restarting until asked to stop.
    dying = Child(name="dying", argv=_python("raise SystemExit(4)"))
    starts = []

    def fake_sleep(seconds: float) -> None:
        if dying.process is not None and dying.process.pid not in starts:
            starts.append(dying.process.pid)
        if len(starts) == 4:
            supervisor._request_stop(signal.SIGINT, None)

    supervisor = Supervisor(
        children=[dying], sleep=fake_sleep, max_failures=2, healthy_after=0, backoff_base=0.01
    )
    assert supervisor.run() == 0
    assert len(starts) == 4
    assert dying.failures == 1


def test_bind_in_use_detects_a_listening_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert bind_in_use(f"127.0.0.1:{port}") is True
    assert bind_in_use(f"127.0.0.1:{port}") is False
    assert bind_in_use("unix:/tmp/opsdesk.sock") is False


def test_run_refuses_a_taken_address_before_migrating(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")}
        env["OPSDESK_DATA_DIR"] = str(tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "opsdesk", "run", "--bind", f"127.0.0.1:{port}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "Applying" not in result.stdout  # refused before touching the database
