"""What `opsdesk serve`'s WSGI module leaves behind in uWSGI's master before it forks."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_loaded_application_is_frozen_for_the_forked_workers(tmp_path):
    # A fresh interpreter, as uWSGI's master is: everything the import loaded is moved out
    # of the garbage collector's generations, so workers neither walk nor copy it.
    code = (
        "import gc; before = gc.get_freeze_count(); import opsdesk.jobs.wsgi; "
        "import sys; print('holidays.countries.south_korea' in sys.modules); "
        "print(before, gc.get_freeze_count())"
    )
    env = {**os.environ, "OPSDESK_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    before, after = int(out[-2]), int(out[-1])
    assert before == 0
    assert after > 50_000  # Django, the apps and their modules
    # the Korean holiday rules, which the first ticket would otherwise load in each worker
    assert out[-3] == "True"
