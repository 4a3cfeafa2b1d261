"""Views (agent UI)."""

from django.http import HttpRequest, HttpResponse


def call_new(request: HttpRequest) -> HttpResponse:
    return HttpResponse("todo")
