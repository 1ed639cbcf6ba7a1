"""Error pages of the project outside the API views (those map errors in inspector.api_errors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL no route matches: ``{"detail": ...}`` JSON like every API answer; the admin keeps its page.

    Django's ``handler404``, used when ``DEBUG`` is off (in production and in tests).
    """
    if request.path_info.startswith("/admin/"):
        return page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)
