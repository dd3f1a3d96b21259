from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("chat/token", views.token, name="token"),
    path("chat/restart", views.restart, name="restart"),
    path("healthz", views.health, name="health"),
]
