"""Turn an unavailable database into a clear 503, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from .urls import JSON_VIEWS

logger = logging.getLogger(__name__)


def wants_json(request: HttpRequest) -> bool:
    """Whether the request was routed to one of the chat's JSON endpoints.

    Decided by the route's name (``chat:token`` ...), not its path, so it holds when
    the site runs under a path prefix (``DJANGO_SCRIPT_NAME``) or the routes move.
    """
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in JSON_VIEWS


class DatabaseUnavailableMiddleware:
    """Answer 503 (JSON for the chat's JSON endpoints, a page otherwise) when the database cannot be used."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        logger.error("database unavailable while serving %s: %s", request.path, exception)
        if wants_json(request):
            response: HttpResponse = JsonResponse(
                {"error": "unavailable", "message": "The chat is temporarily unavailable."}, status=503
            )
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
