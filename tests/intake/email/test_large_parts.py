"""Large attachments are decoded in chunks into temporary files (spool.py), not held in memory."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import pytest

from opsdesk.intake.email import parse_message, spool

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "email"


def _mail(*attachments: tuple[str, bytes, str]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kim Minsu <minsu@customer.test>"
    msg["To"] = "support@opsdesk.test"
    msg["Subject"] = "logs"
    msg.set_content("The logs are attached.")
    for name, data, cte in attachments:
        if cte == "quoted-printable":
            msg.add_attachment(data.decode(), subtype="plain", filename=name, cte=cte)
        else:
            msg.add_attachment(data, maintype="application", subtype="gzip", filename=name)
    return msg.as_bytes()


def test_large_base64_and_qp_attachments_are_spooled_byte_exact() -> None:
    binary = os.urandom(3 * 1024 * 1024 + 5)  # not a multiple of 3: padding at the end
    text = ("2026-11-28 web-01 kernel: a = b; 한글 로그\n" * 30_000).encode()
    parsed = parse_message(
        _mail(("syslog.gz", binary, "base64"), ("app.log", text, "quoted-printable"))
    )
    big, log = parsed.attachments
    assert (big.filename, big.size, big.complete) == ("syslog.gz", len(binary), True)
    assert big.spooled is not None and big.content == b""
    assert big.spooled.sha256 == hashlib.sha256(binary).hexdigest()
    assert big.payload == binary
    assert big.head(4) == binary[:4]
    assert log.spooled is not None and log.payload == text
    assert parsed.text_body.strip() == "The logs are attached."
    assert not [d for d in parsed.defects if "parsed in memory" in d]
    parsed.close()
    assert big.spooled.file is not None and big.spooled.file.closed


def test_small_mail_stays_in_memory() -> None:
    parsed = parse_message(_mail(("small.gz", b"\x1f\x8b" + b"0" * 1000, "base64")))
    assert parsed.attachments[0].spooled is None
    assert parsed.attachments[0].payload.startswith(b"\x1f\x8b")


def test_part_over_the_limit_is_counted_not_kept() -> None:
    binary = os.urandom(2 * 1024 * 1024)
    parsed = parse_message(
        _mail(("huge.gz", binary, "base64"), ("tiny.gz", b"ok", "base64")),
        max_part_bytes=1024 * 1024,
    )
    huge, tiny = parsed.attachments
    assert (huge.size, huge.complete, huge.payload) == (len(binary), False, b"")
    assert huge.spooled is not None and huge.spooled.file is None  # no disk used either
    assert (tiny.complete, tiny.payload) == (True, b"ok")


def test_spooling_gives_the_same_result_as_parsing_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every corpus mail, with every part spooled, parses as the stdlib alone parses it.
    (Enclosed messages are the one difference: spooled, they are the original bytes rather
    than a re-serialisation, so only their names and types are compared.)"""
    if not CORPUS.is_dir():
        pytest.skip("email corpus missing")

    def summary(raw: bytes) -> tuple[object, ...]:
        parsed = parse_message(raw)
        files = [
            (a.filename, a.content_type, a.is_inline)
            + (() if a.content_type.startswith("message/") else (a.size, a.payload))
            for a in parsed.attachments
        ]
        return (parsed.subject, parsed.text_body, parsed.html_body_sanitised, files)

    compared = 0
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or path.name == "SOURCES.md" or path.name == "mail_outlook_1":
            continue
        raw = path.read_bytes()
        in_memory = summary(raw)
        with monkeypatch.context() as patch:
            patch.setattr(spool, "SPOOL_MESSAGE_BYTES", 0)
            patch.setattr(spool, "SPOOL_PART_BYTES", 0)
            assert summary(raw) == in_memory, path.name
        compared += 1
    assert compared > 100


def test_parts_the_splitter_gets_wrong_fall_back_to_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker the stdlib tree does not give back means the split disagreed: parse again in
    memory rather than lose the part."""
    raw = _mail(("syslog.gz", os.urandom(2 * 1024 * 1024), "base64"))
    real = spool.spool_large_parts

    def lost_marker(data: bytes, **kwargs: object) -> spool.Skeleton | None:
        skeleton = real(data, **kwargs)  # type: ignore[arg-type]
        assert skeleton is not None
        skeleton.raw = skeleton.raw.replace(spool.MARKER.encode(), b"X-Other")
        return skeleton

    monkeypatch.setattr("opsdesk.intake.email.parsing.spool_large_parts", lost_marker)
    parsed = parse_message(raw)
    assert parsed.attachment_names == ["syslog.gz"]
    assert parsed.attachments[0].spooled is None and parsed.attachments[0].size == 2 * 1024 * 1024
    assert "large parts could not be separated; parsed in memory" in parsed.defects


def test_reading_a_spooled_part_holds_it_once() -> None:
    """Opening the part for a peek (head) must not make the full read hold it twice."""
    binary = os.urandom(3 * 1024 * 1024)
    parsed = parse_message(_mail(("syslog.gz", binary, "base64")))
    big = parsed.attachments[0]
    assert big.head(8) == binary[:8]
    tracemalloc.start()
    try:
        content = big.payload
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert content == binary
    assert peak < 1.5 * len(binary)
