"""Benchmark of email ingestion (parse + store: email_ingest end to end); see
docs/subsystems/email.md.

Usage: .venv/bin/python bench/email_ingest.py [--messages 1000] [--backends sqlite,postgres]
       [--profile]  (needs pyinstrument in .venv; prints where the time goes)
       [--scratch-db NAME]  (PostgreSQL scratch database; give your own when others bench too)

For each backend, a child process sets up a throwaway site (SQLite in a temporary
OPSDESK_DATA_DIR; PostgreSQL in a scratch database `opsdesk_bench_email` on the server of
OPSDESK_DATABASE_URL or postgres://postgres@127.0.0.1:5432, or --scratch-db), migrates it,
and ingests the mix of bench/email_parse.py (plain 20 KB, HTML, Korean CP949, one 1 MB
attachment per ten) with unique Message-IDs: each mail stores its raw file, opens a ticket
(contact, timeline, attachments) and queues an acknowledgment task, as in production. Also
replies threaded by In-Reply-To every fifth mail. Prints messages/s, CPU ms and SQL
statements per mail (SQLite counts its BEGIN/COMMIT, PostgreSQL has none to count) and the
CPU of the cheapest and median 50-mail slice, per backend; then the same for the "typical"
mix, without the 1 MB-attachment mail (the issue's goal is 300 messages/s for typical 20 KB
mail on SQLite); no assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/opsdesk"
SCRATCH_DB = "opsdesk_bench_email"
SLICE = 50  # mails per CPU-time slice: five times the mix of ten
TYPICAL_SLICE = 45  # five times the nine typical mails of the mix
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\r\n]*\r?\n", re.I | re.M)


def _messages(count: int, *, typical: bool = False) -> list[bytes]:
    """``count`` mails of the mix; ``typical``: without the 1 MB attachment (the issue's goal
    is for typical 20 KB mail)."""
    from bench.email_parse import KINDS, build_mix

    mix = build_mix()
    if typical:
        mix = [raw for raw in mix if raw is not KINDS["1 MB attachment"]]
    tag = "typical" if typical else "bench"
    out = []
    for n in range(count):
        raw = _MESSAGE_ID.sub(b"", mix[n % len(mix)], count=1)
        head = f"Message-ID: <{tag}-{n}@bench.test>\r\n"
        if n % 5 == 4:  # a customer answering an earlier mail of the run
            head += f"In-Reply-To: <{tag}-{n - 4}@bench.test>\r\n"
        out.append(head.encode() + raw)
    return out


def _inner(backend: str, count: int, profile: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    os.environ["OPSDESK_EMAIL_RATE_LIMIT_PER_HOUR"] = "0"
    os.environ["OPSDESK_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from opsdesk.intake.email.ingest import email_ingest
    from opsdesk.tenancy.services import organisation_create

    call_command("migrate", verbosity=0)
    organisation_create(code="bench", name="Bench", domains=["example.com", "example.kr"])
    email_ingest(
        raw=b"Message-ID: <warm@bench.test>\r\nFrom: a@b.test\r\n\r\nx", received_via="file"
    )
    statements = [0]

    def counted(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return execute(sql, params, many, context)

    phases = [(backend, _messages(count), SLICE)]
    if not profile:
        # The goal is for typical 20 KB mail: the same mix without the 1 MB one.
        phases.append(("  typical", _messages(count, typical=True), TYPICAL_SLICE))
    for label, messages, slice_size in phases:
        profiler = _profiler() if profile else None
        statements[0] = 0
        with connection.execute_wrapper(counted):
            _measure(label, messages, slice_size, email_ingest)
        print(f"{'':<10} {statements[0] / len(messages):.1f} SQL statements per mail")
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))


def _measure(label: str, messages: list[bytes], slice_size: int, email_ingest) -> None:  # type: ignore[no-untyped-def]
    count = len(messages)
    cpu_start = time.process_time()
    start = time.perf_counter()
    actions: dict[str, int] = {}
    slices: list[float] = []  # CPU seconds per slice_size mails (each slice is whole mixes)
    for n, raw in enumerate(messages):
        if n % slice_size == 0:
            slice_start = time.process_time()
        result = email_ingest(raw=raw, received_via="file")
        actions[result.action] = actions.get(result.action, 0) + 1
        if n % slice_size == slice_size - 1:
            slices.append(time.process_time() - slice_start)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    megabytes = sum(map(len, messages)) / 1e6
    print(
        f"{label:<10} {count} messages ({megabytes:.0f} MB) in {elapsed:.2f} s: "
        f"{count / elapsed:.0f} messages/s  {dict(sorted(actions.items()))}"
    )
    # On a shared machine wall time swings with the neighbours; CPU time per mail does not.
    print(f"{'':<10} CPU {cpu * 1000 / count:.1f} ms per mail ({count / cpu:.0f} messages/CPU-s)")
    if len(slices) > 1:
        # Neighbours only ever add CPU time (cache, frequency): the cheapest slice is the
        # steadiest figure to compare two versions by; the median shows the spread.
        ordered = sorted(slices)
        best, median = ordered[0], ordered[len(ordered) // 2]
        print(
            f"{'':<10} CPU per {slice_size}-mail slice: best {best * 1000 / slice_size:.1f}, "
            f"median {median * 1000 / slice_size:.1f} ms per mail"
        )


def _profiler():  # type: ignore[no-untyped-def]
    """pyinstrument (a profiling aid, not a dependency: pip install it into .venv)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def _postgres_url(scratch_db: str) -> str | None:
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", scratch_db):
        raise SystemExit(f"--scratch-db {scratch_db!r}: lower-case letters, digits, _ only")
    base = os.environ.get("OPSDESK_DATABASE_URL", PG_DEFAULT)
    server = base.rsplit("/", 1)[0]
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as db:
            db.execute(f"DROP DATABASE IF EXISTS {scratch_db}")
            db.execute(f"CREATE DATABASE {scratch_db}")
    except psycopg.Error as exc:
        print(f"postgres   skipped: {exc}".splitlines()[0])
        return None
    return f"{server}/{scratch_db}"


def _run(backend: str, count: int, profile: bool, scratch_db: str = SCRATCH_DB) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")}
    with tempfile.TemporaryDirectory(prefix="bench-email-") as data_dir:
        env["OPSDESK_DATA_DIR"] = data_dir
        if backend == "postgres":
            url = _postgres_url(scratch_db)
            if url is None:
                return
            env["OPSDESK_DATABASE_URL"] = url
        command = [sys.executable, __file__, "--inner", backend, "--messages", str(count)]
        command += ["--profile"] if profile else []
        subprocess.run(command, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    parser.add_argument("--scratch-db", default=SCRATCH_DB, help="PostgreSQL scratch database")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _inner(args.inner, args.messages, args.profile)
        return
    for backend in args.backends.split(","):
        _run(backend.strip(), args.messages, args.profile, args.scratch_db)


if __name__ == "__main__":
    main()
