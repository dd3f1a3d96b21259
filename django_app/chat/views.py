"""Views: the page with the chat widget, and the endpoint that issues its token."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from .tokens import issue_token, new_conversation_id

SESSION_KEY = "chat_conversation_id"


def _conversation_id(request: HttpRequest) -> str:
    """This visitor's conversation id, kept in the Django session (created on the first visit)."""
    conversation_id = request.session.get(SESSION_KEY)
    if not conversation_id:
        conversation_id = new_conversation_id()
        request.session[SESSION_KEY] = conversation_id
        # Save now, inside the view, so an unusable database gives a clear 503
        # (DatabaseUnavailableMiddleware) rather than failing after the response is built.
        request.session.save()
    return conversation_id


@require_GET
@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The page customers open: a chat widget (the visitor's conversation is assigned here)."""
    _conversation_id(request)
    return render(request, "chat/index.html", {"rasa_socket_url": settings.RASA_SOCKET_URL})


def _token_response(conversation_id: str) -> JsonResponse:
    signed, expires = issue_token(conversation_id, secret=settings.RASA_JWT_SECRET, lifetime=settings.RASA_JWT_LIFETIME)
    response = JsonResponse({"token": signed, "session_id": conversation_id, "expires_at": expires})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """Issue a short-lived JWT for this visitor's conversation (CSRF-protected POST)."""
    return _token_response(_conversation_id(request))


@require_POST
def restart(request: HttpRequest) -> JsonResponse:
    """Start a new conversation for this visitor and issue its token."""
    conversation_id = new_conversation_id()
    request.session[SESSION_KEY] = conversation_id
    return _token_response(conversation_id)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Readiness probe for the launcher and tests."""
    return JsonResponse({"status": "ok"})
