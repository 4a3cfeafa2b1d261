from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": settings.OPSDESK["SITE_NAME"],
        "support_phone": settings.OPSDESK["SUPPORT_PHONE"],
        "support_email": settings.OPSDESK["SUPPORT_EMAIL"],
    }
