"""The chat's pages and JSON endpoints. Routes are named; code refers to them by name, never by path."""

from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("bots/", views.several, name="several"),
    path("bots/<slug:bot_id>/", views.bot_page, name="bot"),
    path("bots/<slug:bot_id>/embed", views.embed_example, name="embed-example"),
    path("chat/<slug:bot_id>/widget.json", views.widget_config, name="widget-config"),
    path("chat/<slug:bot_id>/token", views.token, name="bot-token"),
    path("chat/<slug:bot_id>/restart", views.restart, name="bot-restart"),
    # the default bot (settings.CHAT_DEFAULT_BOT), as before the registry
    path("chat/token", views.token, name="token"),
    path("chat/restart", views.restart, name="restart"),
    path("healthz", views.health, name="health"),
]

#: Views answering JSON: DatabaseUnavailableMiddleware answers their failures with JSON too.
JSON_VIEWS = frozenset(
    f"{app_name}:{name}" for name in ("widget-config", "bot-token", "bot-restart", "token", "restart", "health")
)
