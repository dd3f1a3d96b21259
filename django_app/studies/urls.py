"""Participants' pages. Code refers to them by name (``studies:consent``), never by path."""

from django.urls import path

from . import pairwise_views, views

app_name = "studies"
urlpatterns = [
    path("<slug:slug>/", views.start, name="start"),
    path("<slug:slug>/consent", views.consent, name="consent"),
    path("<slug:slug>/quiz", views.quiz, name="quiz"),
    path("<slug:slug>/instructions", views.instructions, name="instructions"),
    path("<slug:slug>/next", views.next_step, name="next"),
    path("<slug:slug>/chat", views.chat, name="chat"),
    path("<slug:slug>/chat/widget.json", views.widget_config, name="widget-config"),
    path("<slug:slug>/chat/token", views.token, name="token"),
    path("<slug:slug>/chat/restart", views.token, name="restart"),
    path("<slug:slug>/chat/message", views.message, name="message"),
    path("<slug:slug>/chat/annotate", views.annotate, name="annotate"),
    path("<slug:slug>/chat/finish", views.finish_chat, name="finish-chat"),
    path("<slug:slug>/questionnaire", views.questionnaire, name="questionnaire"),
    path("<slug:slug>/judge", pairwise_views.judge, name="judge"),
    path("<slug:slug>/done", views.done, name="done"),
]
