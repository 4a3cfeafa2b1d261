"""`opsdesk run`: the web server and one worker as supervised child processes.

See docs/subsystems/jobs.md. A child that exits is restarted after a back-off (1 s, 2 s,
4 s ... up to 30 s). A child that keeps dying quickly (MAX_FAILURES times in a row, each
within HEALTHY_AFTER seconds of its start: the port is taken, the database is gone) stops
the whole thing with a non-zero exit and a message naming the child, instead of flapping
forever; a child that ran for a while before dying starts the count afresh.
SIGINT/SIGTERM stop both children gracefully (SIGTERM, then SIGKILL after STOP_TIMEOUT).

Children run in their own process group so Ctrl-C reaches only this supervisor, which then
stops them once and in order; on Linux they also get SIGTERM if the supervisor is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

logger = logging.getLogger("opsdesk.jobs.supervisor")

MAX_FAILURES = 5
HEALTHY_AFTER = 60.0
MAX_BACKOFF = 30.0
STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SupervisorGaveUp(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.argv, process_group=0, preexec_fn=_die_with_parent
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        logger.info("started", extra={"child": self.name, "pid": self.process.pid})

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


@dataclass
class Supervisor:
    children: list[Child]
    sleep: Callable[[float], None] = time.sleep
    max_failures: int = MAX_FAILURES
    healthy_after: float = HEALTHY_AFTER
    backoff_base: float = 1.0
    stopping: bool = False

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        logger.info("stopping", extra={"signal": signal.Signals(signum).name})
        self.stopping = True

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                child.start()
            while not self.stopping:
                self._tick(time.monotonic())
                self.sleep(0.2)
            return 0
        except SupervisorGaveUp as exc:
            logger.error(str(exc))
            print(f"opsdesk run: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _tick(self, moment: float) -> None:
        for child in self.children:
            if child.restart_at is not None:
                if moment >= child.restart_at and not self.stopping:
                    child.start()
                continue
            code = child.exited()
            if code is None:
                continue
            if moment - child.started_at >= self.healthy_after:
                child.failures = 0
            child.failures += 1
            if child.failures >= self.max_failures:
                raise SupervisorGaveUp(
                    f"the {child.name} exited {child.failures} times in a row soon after "
                    f"starting (last exit code {code}); giving up. See its messages above."
                )
            backoff = min(MAX_BACKOFF, self.backoff_base * 2.0 ** (child.failures - 1))
            logger.warning(
                "child exited; restarting",
                extra={"child": child.name, "exit_code": code, "restart_in_s": backoff},
            )
            child.restart_at = moment + backoff

    def _stop_all(self) -> None:
        running = [
            (c.name, c.process) for c in self.children if c.process and c.process.poll() is None
        ]
        for _, process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("did not stop in time; killing", extra={"child": name})
                process.kill()
                process.wait()
