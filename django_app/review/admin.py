"""The review inbox in the Django admin (staff only): conversations worst first, and a page to correct each."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from process_data.errors import ConversionError

from .exports import default_bot_dir, stories_text, training_plan
from .forms import CorrectionForm, ImportForm, TagsForm
from .models import ReviewConversation, ReviewMessage, Tag
from .selectors import PROBLEMS, conversation_messages, conversations_to_import, known_intents, message_conflict
from .services import (
    ReviewError,
    annotate,
    conversation_mark_reviewed,
    conversation_tag,
    conversations_import,
    correction_set,
    message_delete,
)
from .training import render_nlu

PROBLEM_LABELS = {
    "fallback": "Fallback or clarification",
    "low_confidence": "Low confidence",
    "annotated": "Participants' annotations",
    "handoff": "Handed over",
    "unsuccessful": "Ended without success",
}


class ProblemFilter(admin.SimpleListFilter):
    title = "what went wrong"
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        return list(PROBLEM_LABELS.items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(PROBLEMS[value]) if value in PROBLEMS else queryset


class IntentFilter(admin.SimpleListFilter):
    title = "predicted intent"
    parameter_name = "intent"

    def lookups(self, request, model_admin):
        return [(name, name) for name in known_intents()]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(intents__icontains=f'"{value}"') if value else queryset


@admin.register(ReviewConversation)
class ReviewConversationAdmin(admin.ModelAdmin):
    list_display = (
        "conversation",
        "bot",
        "source",
        "started_at",
        "user_messages",
        "fallbacks",
        "low_confidence",
        "annotations",
        "handoff",
        "unsuccessful",
        "tag_list",
        "reviewed",
    )
    list_filter = (
        ProblemFilter,
        "reviewed",
        "bot",
        "source",
        IntentFilter,
        "tags",
        ("started_at", admin.DateFieldListFilter),
    )
    date_hierarchy = "started_at"
    search_fields = ("chat__id", "messages__text")
    actions = ("mark_reviewed", "download_stories")
    ordering = ("reviewed", "-priority", "-started_at")

    change_list_template = "admin/review/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # conversations come from the tracker: the import page, or manage.py review_import

    def get_urls(self):
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="review_reviewconversation_import",
            ),
            path(
                "training-data/",
                self.admin_site.admin_view(self.training_data_view),
                name="review_reviewconversation_training_data",
            ),
        ]
        return own + super().get_urls()

    def training_data_view(self, request: HttpRequest) -> HttpResponse:
        """The corrections as the NLU file ``review_export`` writes (redacted, de-duplicated), as a download.

        What was left out (conflicts, refused names) is listed in comments at the top.
        """
        if not self.has_view_or_change_permission(request):
            return HttpResponse(status=403)
        try:
            plan, out_of_scope = training_plan(bot_dir=default_bot_dir())
        except ConversionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:review_reviewconversation_changelist"))
        notes = [f"# conflict: {c}" for c in plan.conflicts] + [f"# refused: {r}" for r in plan.refused]
        notes.append(f"# {plan.summary()}; {out_of_scope} out of scope left out")
        text = render_nlu(plan)
        header, rest = text.split("\n", 1)
        body = "\n".join([header, *(" ".join(n.split()) for n in notes), rest])
        response = HttpResponse(body, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="review_nlu.yml"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Import conversations from the bots' trackers (all read first: an unreachable API writes nothing)."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        bots = sorted(set(conversations_to_import().values_list("bot_id", flat=True)))
        form = ImportForm(request.POST or None, bots=bots)
        if request.method == "POST" and form.is_valid():
            chats = conversations_to_import(bot=form.cleaned_data["bot"] or None, since=form.cleaned_data["since"])
            try:
                imported = conversations_import(chats=list(chats))
            except ReviewError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{len(imported)} conversations imported.")
                return HttpResponseRedirect(reverse("admin:review_reviewconversation_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import conversations from the bots' trackers",
            "form": form,
            "changelist_url": reverse("admin:review_reviewconversation_changelist"),
        }
        return render(request, "admin/review/import.html", context)

    @admin.display(description="Conversation", ordering="chat_id")
    def conversation(self, obj: ReviewConversation) -> str:
        return obj.chat_id

    @admin.display(description="Tags")
    def tag_list(self, obj: ReviewConversation) -> str:
        return ", ".join(t.name for t in obj.tags.all())

    @admin.action(description="Mark the selected conversations reviewed", permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset) -> None:
        for conversation in queryset:
            conversation_mark_reviewed(conversation=conversation, reviewer=request.user)
        self.message_user(request, f"{queryset.count()} conversations marked reviewed.")

    @admin.action(description="Download the selected conversations as Rasa test stories")
    def download_stories(self, request: HttpRequest, queryset) -> HttpResponse:
        text, count, skipped = stories_text(list(queryset.order_by("chat_id")), bot_dir=default_bot_dir())
        for line in skipped:
            self.message_user(request, f"left out: {line}", messages.WARNING)
        response = HttpResponse(text, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="review_stories.yml"'
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The review page: each message with what Rasa made of it, the corrections, and a form to correct it."""
        conversation = get_object_or_404(ReviewConversation.objects.select_related("bot"), pk=object_id)
        if not self.has_view_or_change_permission(request, conversation):
            return HttpResponse(status=403)
        if request.method == "POST":
            if not self.has_change_permission(request, conversation):
                return HttpResponse(status=403)
            self._post(request, conversation)
            return HttpResponseRedirect(request.path)
        rows = []
        for message in conversation_messages(conversation):
            mine = next((c for c in message.corrections.all() if c.reviewer_id == request.user.pk), None)
            initial = {
                "message": message.pk,
                "intent": (mine.intent if mine else message.intent if message.intent != "nlu_fallback" else ""),
                "out_of_scope": bool(mine and mine.out_of_scope),
                "annotated": annotate(message.text, mine.entities if mine else message.entities),
            }
            rows.append(
                {
                    "message": message,
                    "form": CorrectionForm(initial=initial, prefix=f"m{message.pk}"),
                    "conflict": message_conflict(message),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review conversation {conversation.chat_id}",
            "conversation": conversation,
            "rows": rows,
            "intents": known_intents(),
            "tags_form": TagsForm(initial={"tags": ", ".join(t.name for t in conversation.tags.all())}),
            "can_change": self.has_change_permission(request, conversation),
            "changelist_url": reverse("admin:review_reviewconversation_changelist"),
        }
        return render(request, "admin/review/conversation.html", context)

    def _post(self, request: HttpRequest, conversation: ReviewConversation) -> None:
        action = request.POST.get("action", "")
        try:
            if action == "correct":
                message = get_object_or_404(ReviewMessage, pk=request.POST.get("message"), conversation=conversation)
                form = CorrectionForm(request.POST, prefix=f"m{message.pk}")
                if not form.is_valid():
                    raise ReviewError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
                data = form.cleaned_data
                correction_set(
                    message=message,
                    reviewer=request.user,
                    intent=data["intent"],
                    out_of_scope=data["out_of_scope"],
                    annotated=data["annotated"] or None,
                )
                self.message_user(request, f"Message {message.index + 1}: saved.")
            elif action == "delete_message":
                message = get_object_or_404(ReviewMessage, pk=request.POST.get("message"), conversation=conversation)
                message_delete(message=message)
                self.message_user(request, f"Message {message.index + 1} deleted.")
            elif action == "tags":
                form = TagsForm(request.POST)
                if form.is_valid():
                    conversation_tag(conversation=conversation, names=form.cleaned_data["tags"].split(","))
                    self.message_user(request, "Tags saved.")
            elif action in ("reviewed", "unreviewed"):
                conversation_mark_reviewed(
                    conversation=conversation, reviewer=request.user, reviewed=action == "reviewed"
                )
                self.message_user(request, "Marked reviewed." if action == "reviewed" else "Marked not reviewed.")
        except ReviewError as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "used")
    search_fields = ("name",)

    @admin.display(description="Conversations")
    def used(self, obj: Tag) -> str:
        url = reverse("admin:review_reviewconversation_changelist") + f"?tags__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.conversations.count())
