"""Studies in the Django admin (staff only): edit studies, see progress, download exports, delete on request."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from . import pairwise_views, results_views
from .exports import EXPORTS, export_text, export_texts
from .models import (
    Annotation,
    BlockedId,
    ImportedTranscript,
    JudgedPair,
    Message,
    Participant,
    Scenario,
    Study,
    StudyBot,
    StudyConversation,
)
from .selectors import study_progress
from .services import participant_delete, participants_delete

#: Extra links of a pairwise study's "Results" (URL name suffix, text).
PAIRWISE_LINKS = (("judgements", "judgements (CSV)"), ("judge", "judge pairs yourself"))


class StudyBotInline(admin.TabularInline):
    model = StudyBot
    extra = 0
    fields = ("bot", "neutral_label", "quota", "position", "active")


class ScenarioInline(admin.StackedInline):
    model = Scenario
    extra = 0
    fields = ("key", "text", ("success_action", "success_slot", "success_value"), "position", "active")


class DeleteByExternalIdForm(forms.Form):
    external_id = forms.CharField(label="External id (e.g. PROLIFIC_PID or MTurk workerId)", max_length=200)


def _export_action(kind: str):
    suffix = EXPORTS[kind][0]

    def action(modeladmin, request, queryset):
        content_type = "text/csv" if suffix.endswith(".csv") else "application/x-ndjson"
        response = HttpResponse(export_texts(list(queryset), kind), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="studies{suffix}"'
        return response

    action.__name__ = f"export_{kind}"
    return admin.action(description=f"Export the selected studies: {kind} ({suffix.lstrip('.')})")(action)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "kind", "active", "blind", "assignment", "participant_link", "exports")
    list_filter = ("kind", "active", "blind", "assignment")
    search_fields = ("slug", "title")
    inlines = (StudyBotInline, ScenarioInline)
    actions = tuple(_export_action(kind) for kind in sorted(EXPORTS))
    readonly_fields = ("progress", "participant_link", "exports", "results", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("slug", "title", "kind", "active", "blind", "assignment", "participant_link", "progress")}),
        ("Pairwise judgements (pairwise studies)", {"fields": ("pairwise",)}),
        ("Limits", {"fields": ("min_turns", "max_turns", "max_conversations", "idle_timeout_minutes")}),
        ("Consent", {"fields": ("consent_version", "consent_text", "consent_checkboxes")}),
        ("Instructions and quiz", {"fields": ("instructions", "quiz", "quiz_pass_mark")}),
        ("Annotations and questionnaire", {"fields": ("annotation_labels", "annotation_required", "questionnaire")}),
        ("Completion", {"fields": ("completion_code", "completion_url", "invite_token")}),
        ("Acceptability checks", {"fields": ("acceptability",)}),
        ("Data", {"fields": ("results", "exports", "created_at", "updated_at")}),
    )

    @admin.display(description="Participant link")
    def participant_link(self, obj: Study) -> str:
        if not obj.pk:
            return "-"
        url = reverse("studies:start", args=[obj.slug])
        if obj.invite_token:
            url += f"?invite={obj.invite_token}"
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="Exports")
    def exports(self, obj: Study) -> str:
        if not obj.pk:
            return "-"
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((reverse("admin:studies_study_export", args=[obj.pk, kind]), kind) for kind in sorted(EXPORTS)),
        )

    @admin.display(description="Results")
    def results(self, obj: Study) -> str:
        if not obj.pk:
            return "-"
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse(f"admin:studies_study_{name}", args=[obj.pk]), text)
                for name, text in (
                    ("results", "results and charts"),
                    ("report", "report (Markdown)"),
                    ("report_html", "report (HTML)"),
                    ("progress", "live progress"),
                    *(PAIRWISE_LINKS if obj.is_pairwise else ()),
                )
            ),
        )

    @admin.display(description="Progress (completed / quota, open)")
    def progress(self, obj: Study) -> str:
        if not obj.pk:
            return "-"
        return format_html_join(
            "<br>",
            "{} ({}): {} / {}, {} open",
            ((r["bot"], r["label"], r["completed"], r["quota"], r["open"]) for r in study_progress(obj)),
        )

    def get_urls(self):
        own = [
            path(
                "<int:pk>/export/<str:kind>/",
                self.admin_site.admin_view(self.export_view),
                name="studies_study_export",
            ),
            *(
                path(f"<int:pk>/{route}", self.admin_site.admin_view(self._study_view(view)), name=name)
                for route, view, name in (
                    ("results/", results_views.results_page, "studies_study_results"),
                    ("results.md", results_views.report_download, "studies_study_report"),
                    ("results.html", results_views.report_html_download, "studies_study_report_html"),
                    ("judgements.csv", results_views.judgements_download, "studies_study_judgements"),
                    ("judge/", pairwise_views.staff_judge, "studies_study_judge"),
                    ("progress/", results_views.progress_page, "studies_study_progress"),
                    ("progress.json", results_views.progress_json, "studies_study_progress_json"),
                )
            ),
            path(
                "delete-participant/",
                self.admin_site.admin_view(self.delete_participant_view),
                name="studies_delete_participant",
            ),
        ]
        return own + super().get_urls()

    def _study_view(self, view):
        """A results view of one study, for staff who may view it (``admin_view`` sends others to the login)."""

        def wrapped(request: HttpRequest, pk: int) -> HttpResponse:
            study = get_object_or_404(Study, pk=pk)
            if not self.has_view_permission(request, study):
                return HttpResponse(status=403)
            return view(request, study)

        return wrapped

    def export_view(self, request: HttpRequest, pk: int, kind: str) -> HttpResponse:
        study = get_object_or_404(Study, pk=pk)
        if kind not in EXPORTS or not self.has_view_permission(request, study):
            return HttpResponse(status=404)
        suffix = EXPORTS[kind][0]
        content_type = "text/csv" if suffix.endswith(".csv") else "application/x-ndjson"
        response = HttpResponse(export_text(study, kind), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}{suffix}"'
        return response

    def delete_participant_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_delete_permission(request):
            return HttpResponse(status=403)
        form = DeleteByExternalIdForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            count = participant_delete(external_id=form.cleaned_data["external_id"])
            if count:
                self.message_user(request, f"Deleted {count} participant record(s) and everything they entered.")
            else:
                self.message_user(request, "No participant has that external id.", level=messages.WARNING)
            return redirect(reverse("admin:studies_study_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Delete a participant's data"}
        return render(request, "admin/studies/delete_participant.html", context)


@admin.action(description="Delete the selected participants and everything they entered")
def delete_participants(modeladmin, request, queryset):
    count = participants_delete(participants=queryset)
    modeladmin.message_user(request, f"Deleted {count} participant(s).")


class ConversationInline(admin.TabularInline):
    model = StudyConversation
    extra = 0
    can_delete = False
    fields = ("study_bot", "scenario", "status", "user_turns", "success", "started_at", "completed_at")
    readonly_fields = fields
    show_change_link = True


class JudgedPairInline(admin.TabularInline):
    model = JudgedPair
    fk_name = "participant"
    extra = 0
    can_delete = False
    fields = ("position", "left_bot", "right_bot", "check_of", "answers", "reason", "assigned_at", "answered_at")
    readonly_fields = fields


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("id", "study", "stage", "external_source", "quiz_score", "created_at", "finished_at")
    list_filter = ("study", "stage", "external_source")
    readonly_fields = [f.name for f in Participant._meta.fields]
    actions = (delete_participants,)
    inlines = (ConversationInline, JudgedPairInline)

    def has_add_permission(self, request):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # ours also removes the chat ids
        return actions


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ("index", "sender", "text", "sent_at", "intent", "confidence", "actions", "labels")
    readonly_fields = fields

    @admin.display(description="Labels")
    def labels(self, obj: Message) -> str:
        annotation = Annotation.objects.filter(message=obj).first()
        return ", ".join(annotation.labels) if annotation else ""


@admin.register(StudyConversation)
class StudyConversationAdmin(admin.ModelAdmin):
    list_display = ("chat_id", "participant", "study_bot", "scenario", "status", "user_turns", "success", "flags")
    list_filter = ("participant__study", "status", "study_bot__bot")
    readonly_fields = [f.name for f in StudyConversation._meta.fields]
    inlines = (MessageInline,)

    def has_add_permission(self, request):
        return False


@admin.register(BlockedId)
class BlockedIdAdmin(admin.ModelAdmin):
    """The soft block list: hashes only (add ids with ``manage.py block_participant``); staff may lift a block."""

    list_display = ("external_id_hash", "study", "created_at")
    list_filter = ("study",)
    readonly_fields = ("study", "external_id_hash", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(ImportedTranscript)
class ImportedTranscriptAdmin(admin.ModelAdmin):
    """Transcripts imported into pairwise studies (``manage.py import_transcripts``); read-only here."""

    list_display = ("key", "study", "bot", "scenario", "imported_at")
    list_filter = ("study", "bot")
    search_fields = ("key",)
    readonly_fields = [f.name for f in ImportedTranscript._meta.fields]

    def has_add_permission(self, request):
        return False
