"""Views: chat pages (one bot, several bots, an embedding example) and the widget's JSON endpoints.

Thin: they find the bot, keep the visitor's conversation per bot in the Django
session, and call :mod:`chat.services` to start conversations and sign tokens.
"""

from __future__ import annotations

from bots.models import Bot, BotUnavailable
from bots.selectors import bot_get_enabled, bots_enabled
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from .models import Conversation
from .services import ChatGrant, conversation_start, conversation_token

#: The session maps each bot id to the visitor's conversation with that bot.
SESSION_KEY = "chat_conversations"


def _bot_or_404(bot_id: str | None) -> Bot:
    bot = bot_get_enabled(bot_id or settings.CHAT_DEFAULT_BOT)
    if bot is None:
        raise Http404("no such bot")
    return bot


def _remember(request: HttpRequest, grant: ChatGrant) -> None:
    conversations = dict(request.session.get(SESSION_KEY) or {})
    conversations[grant.bot_id] = grant.conversation_id
    request.session[SESSION_KEY] = conversations
    # Save now, inside the view, so an unusable database gives a clear 503
    # (DatabaseUnavailableMiddleware) rather than failing after the response is built.
    request.session.save()


def _current_grant(request: HttpRequest, bot: Bot) -> ChatGrant:
    """A token for this visitor's conversation with ``bot`` (started on first use)."""
    conversation_id = (request.session.get(SESSION_KEY) or {}).get(bot.id)
    conversation = Conversation.objects.filter(id=conversation_id, bot=bot).first() if conversation_id else None
    if conversation is not None:
        return conversation_token(conversation=conversation)
    grant = conversation_start(bot=bot)
    _remember(request, grant)
    return grant


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _unavailable(exc: BotUnavailable) -> JsonResponse:
    return _json({"error": "bot_unavailable", "message": str(exc)}, status=503)


def _page(request: HttpRequest, bots: list[Bot], title: str) -> HttpResponse:
    return render(request, "chat/page.html", {"bots": bots, "title": title})


@require_GET
@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The page customers open: the full-page chat with the default bot (``CHAT_DEFAULT_BOT``)."""
    bot = bot_get_enabled(settings.CHAT_DEFAULT_BOT)
    if bot is None:
        return render(request, "chat/no_bot.html", {"bot_id": settings.CHAT_DEFAULT_BOT}, status=404)
    return _page(request, [bot], "Customer service chat")


@require_GET
@ensure_csrf_cookie
def bot_page(request: HttpRequest, bot_id: str) -> HttpResponse:
    """The full-page chat with one bot."""
    bot = _bot_or_404(bot_id)
    return _page(request, [bot], f"Chat: {bot.label}")


@require_GET
@ensure_csrf_cookie
def several(request: HttpRequest) -> HttpResponse:
    """Several bots side by side, one widget each: ``?bot=a&bot=b`` (default: every enabled bot)."""
    wanted = request.GET.getlist("bot")
    found = {b.id: b for b in bots_enabled(wanted or None)}
    bots = [found[i] for i in wanted if i in found] if wanted else list(found.values())
    if not bots:
        raise Http404("no such bots")
    return _page(request, bots, "Chat with our assistants")


@require_GET
def embed_example(request: HttpRequest, bot_id: str) -> HttpResponse:
    """A plain page with nothing but text and the embed snippet: what a site owner pastes, working."""
    bot = _bot_or_404(bot_id)
    site = request.build_absolute_uri(reverse("chat:index")).rstrip("/")
    snippet = (
        f'<script src="{request.build_absolute_uri(static("chat/embed.js"))}"\n'
        f'        data-bot="{bot.id}" data-site="{site}" defer></script>'
    )
    return render(request, "chat/embed_example.html", {"bot": bot, "snippet": snippet})


@require_GET
def widget_config(request: HttpRequest, bot_id: str) -> JsonResponse:
    """What a widget needs before it starts: where the bot is, where tokens come from, the CSRF token.

    Starts no conversation (a GET changes nothing); sets the CSRF cookie, so a page
    Django did not render (an embedding page) can POST for tokens.
    """
    bot = _bot_or_404(bot_id)
    return _json(
        {
            "bot": bot.id,
            "label": bot.label,
            "socket_url": bot.socket_url,
            "socket_path": bot.socket_path,
            "token_url": reverse("chat:bot-token", args=[bot.id]),
            "restart_url": reverse("chat:bot-restart", args=[bot.id]),
            "csrf_token": get_token(request),
        }
    )


@require_POST
def token(request: HttpRequest, bot_id: str | None = None) -> JsonResponse:
    """A short-lived JWT for this visitor's conversation with the bot (CSRF-protected POST)."""
    bot = _bot_or_404(bot_id)
    try:
        return _json(_current_grant(request, bot).as_json())
    except BotUnavailable as exc:
        return _unavailable(exc)


@require_POST
def restart(request: HttpRequest, bot_id: str | None = None) -> JsonResponse:
    """Start a new conversation with the bot for this visitor and sign its token."""
    bot = _bot_or_404(bot_id)
    try:
        grant = conversation_start(bot=bot)
    except BotUnavailable as exc:
        return _unavailable(exc)
    _remember(request, grant)
    return _json(grant.as_json())


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Readiness probe for the launcher and tests."""
    return JsonResponse({"status": "ok"})
