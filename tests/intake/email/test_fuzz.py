"""Fuzzing: parse_message raises nothing but UnparseableMessage, whatever bytes arrive."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.intake.email import UnparseableMessage, classify, parse_message

from .conftest import corpus_files

SMALL_FIXTURES = [p.read_bytes() for p in corpus_files() if p.stat().st_size < 40_000]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _must_not_crash(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except UnparseableMessage as exc:
        assert exc.reason
        return
    classify(parsed)


@SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes) -> None:
    _must_not_crash(raw)


_HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "References", "In-Reply-To",
     "Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Auto-Submitted",
     "MIME-Version", "Reply-To", "Content-ID", "X-Junk"]
)  # fmt: skip
_HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["multipart/mixed; boundary=b", "multipart/report; report-type=delivery-status",
         "text/plain; charset=ks_c_5601-1987", "message/rfc822", "application/ms-tnef",
         "base64", "quoted-printable", "x-uuencode", "=?ks_c_5601-1987?B?wOW+1g==?=",
         "=?utf-8?q?=ED=95=9C?=", "attachment; filename*0*=utf-8''%ED; filename*1=x",
         "<a@b>", "\"unterminated", "<<>>", "=?x?B?!!?="]
    ),
)  # fmt: skip


@SETTINGS
@given(
    st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=12),
    st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([b"--b", b"--b--", b"\r\n"]))),
)
def test_structured_garbage(headers: list[tuple[str, str]], body: list[bytes]) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    _must_not_crash(head.encode("utf-8", "surrogateescape") + b"\r\n" + b"\r\n".join(body))


@SETTINGS
@given(st.data())
def test_mutated_corpus(data: st.DataObject) -> None:
    if not SMALL_FIXTURES:  # corpus absent: the corpus tests report that (skip or CI failure)
        return
    raw = bytearray(data.draw(st.sampled_from(SMALL_FIXTURES)))
    for _ in range(data.draw(st.integers(1, 8))):
        if not raw:
            break
        pos = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            raw[pos] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del raw[pos : pos + data.draw(st.integers(1, 64))]
        elif action == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=32))
        else:
            del raw[pos:]
    _must_not_crash(bytes(raw))


def test_corpus_fixture_list_is_usable() -> None:
    assert all(isinstance(p, Path) for p in corpus_files())
