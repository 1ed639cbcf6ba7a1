"""Project-wide request guards that run before any view, session or database access."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL_REFUSED = "The URL must not contain NUL characters (%00)."


class RefuseNulInUrlMiddleware:
    """Answer 400 ``{"detail": ...}`` to a request whose path or query string holds a NUL character.

    PostgreSQL cannot store or compare text containing NUL, so any such value
    reaching a query failed with a 500. One check here covers every view,
    filter and the admin; request bodies are refused by the JSON parser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or _query_has_nul(request):
            return JsonResponse({"detail": NUL_REFUSED}, status=400)
        return self.get_response(request)


def _query_has_nul(request: HttpRequest) -> bool:
    # Decoded names and values: "%00" and "%2500" differ, and only the former is a NUL.
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())
