"""Settings for the real-process test: the product's settings plus the fake Slack URL
(config/env.py has no Slack setting yet)."""

import os

from opsdesk.config.settings import *  # noqa: F403

OPSDESK_SLACK_BASE_URL = os.environ.get("OPSDESK_TEST_SLACK_URL", "")
OPSDESK_SLACK_TOKEN = "xoxb-test"
