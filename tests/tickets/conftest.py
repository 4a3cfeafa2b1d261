from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def media_dir(settings, tmp_path: Path) -> Path:
    """Attachments stored under the test's own folder, not the data directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path
