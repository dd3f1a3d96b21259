from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("chat/token", views.token, name="token"),
    path("healthz", views.health, name="health"),
]
