from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from opsdesk.intake.email import ParsedMessage, parse_message
from tests.conftest import require_server

REPO_ROOT = Path(__file__).resolve().parents[3]
# In CI the clone sits next to a copy of shared/; locally /work/main sits next to /work/shared.
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "email"


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")


@pytest.fixture
def corpus() -> Path:
    require_server(CORPUS.is_dir(), f"email corpus missing at {CORPUS}")
    return CORPUS


@pytest.fixture
def parse_fixture(corpus: Path) -> Callable[[str], ParsedMessage]:
    def parse(relative: str) -> ParsedMessage:
        return parse_message((corpus / relative).read_bytes())

    return parse
