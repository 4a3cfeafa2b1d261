"""The WSGI application `opsdesk serve` runs: Django's, with the monitoring webhook's
well-formed calls answered before it (alerts/fastpath.py) and the server's access log
around both (jobs/web.py). ``opsdesk.config.wsgi`` stays plain Django for other servers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")

from django.core.wsgi import get_wsgi_application

from opsdesk.jobs.web import AccessLog, access_logger_setup

django_application = get_wsgi_application()

from opsdesk.alerts.fastpath import WebhookFastPath  # noqa: E402 - needs the apps loaded

application = AccessLog(WebhookFastPath(django_application), access_logger_setup())
