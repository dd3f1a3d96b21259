"""URL routes: the Django admin (the bot registry, later studies) and the chat app at the root."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("chat.urls")),
]
