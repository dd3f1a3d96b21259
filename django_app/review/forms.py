"""The review page's forms: they only validate input; the services decide."""

from __future__ import annotations

from django import forms


class CorrectionForm(forms.Form):
    message = forms.IntegerField(widget=forms.HiddenInput)
    intent = forms.CharField(
        max_length=64,
        required=False,
        help_text="An existing intent (suggested as you type) or a new name: lower-case letters, digits and _.",
    )
    out_of_scope = forms.BooleanField(required=False, label="Out of scope")
    annotated = forms.CharField(
        max_length=2000,
        required=False,
        label="Entities",
        help_text="The message with [value](entity) marks; only the marks may change.",
    )


class TagsForm(forms.Form):
    tags = forms.CharField(max_length=500, required=False, help_text="Comma-separated: refund, rude, new-intent …")


class ImportForm(forms.Form):
    bot = forms.ChoiceField(required=False, help_text="Empty: every Rasa bot with an HTTP API.")
    since = forms.DateField(required=False, help_text="Only conversations started on or after (YYYY-MM-DD).")

    def __init__(self, *args, bots: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bot"].choices = [("", "all")] + [(b, b) for b in bots]
