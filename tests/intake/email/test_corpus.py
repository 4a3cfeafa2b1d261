"""Every real-world fixture parses and classifies; structural invariants hold for each."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsdesk.intake.email import classify, parse_message
from opsdesk.intake.email.classify import KINDS

from .conftest import CORPUS, corpus_files

FILES = corpus_files()


def test_corpus_is_present(corpus: Path) -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_fixture_parses_and_classifies(path: Path) -> None:
    parsed = parse_message(path.read_bytes())
    assert "\n" not in parsed.subject
    assert parsed.subject == parsed.subject.strip()
    if parsed.from_address is not None:
        assert parsed.from_address == parsed.from_address.lower()
    if parsed.date is not None:
        assert parsed.date.tzinfo is not None
    for attachment in parsed.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.size == len(attachment.payload)
        assert "/" in attachment.content_type
    if parsed.html_body_sanitised is not None:
        assert "<script" not in parsed.html_body_sanitised.lower()
    assert classify(parsed).kind in KINDS
