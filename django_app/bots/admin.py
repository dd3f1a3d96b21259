"""The registry in the Django admin: staff add, edit and disable bots; secrets stay in the environment."""

from django.contrib import admin

from .models import Bot


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "participant_label", "kind", "socket_url", "enabled", "updated_at")
    list_filter = ("kind", "enabled")
    search_fields = ("id", "label", "participant_label")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("id", "label", "participant_label", "kind", "enabled")}),
        ("Where the browser connects", {"fields": ("socket_url", "socket_path")}),
        (
            "Secrets (names of environment variables, never the values)",
            {"fields": ("jwt_secret_env", "api_token_env")},
        ),
        ("Rasa", {"fields": ("api_url",)}),
        ("Scripted", {"fields": ("python_class",)}),
        (None, {"fields": ("updated_at",)}),
    )

    def get_readonly_fields(self, request, obj=None):  # the id is the tokens' audience: fixed once created
        return (*self.readonly_fields, "id") if obj is not None else self.readonly_fields
