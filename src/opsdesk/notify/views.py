"""Views (agent UI): the notice poll behind every agent screen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opsdesk.notify.selectors import notice_list_since
from opsdesk.tenancy.decorators import staff_required


@require_GET
@staff_required
def notice_poll(request: HttpRequest) -> HttpResponse:
    """Notices newer than ``after``; the answer carries the next poller with the new
    high-water mark, so a notice is shown once per screen."""
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    notices = notice_list_since(user=request.user, after_id=after)  # type: ignore[arg-type]
    if notices:
        after = notices[-1].pk
    return render(request, "notify/poll.html", {"notices": notices, "after": after})
