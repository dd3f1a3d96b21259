"""URL routes: the chat app at the root; a studies app will sit beside it."""

from django.urls import include, path

urlpatterns = [
    path("", include("chat.urls")),
]
