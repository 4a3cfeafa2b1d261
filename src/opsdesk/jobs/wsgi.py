"""The WSGI application `opsdesk serve` runs: Django's, with the server's access log
(jobs/web.py). ``opsdesk.config.wsgi`` stays plain Django for other servers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")

from django.core.wsgi import get_wsgi_application

from opsdesk.jobs.web import AccessLog, access_logger_setup

application = AccessLog(get_wsgi_application(), access_logger_setup())
