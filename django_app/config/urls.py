"""URL routes: the Django admin (bot registry, studies), the studies' participant pages, the chat app at the root."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("study/", include("studies.urls")),
    path("", include("chat.urls")),
]
