"""Forms of the data access request pages (privacy case forms are in forms/cases.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.privacy.models import AccessRequestRefusal, AccessRequestReply


class AccessRequestForm(forms.Form):
    subject_reference = forms.CharField(
        max_length=200,
        label=_("Subject reference"),
        help_text=_("Your file number for the data subject; it stays out of the audit log."),
    )
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.fields[
            "received_on"
        ].help_text = f"The response is due {settings.PROVENA_DSAR_DAYS} days later."


class ReferencePhotoForm(forms.Form):
    photo = forms.FileField(label=_("Reference photo"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photo"].help_text = (
            "A JPEG, PNG, WebP or TIFF photograph of the subject, at most "
            f"{filesizeformat(settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES)}."
        )


class ChooseFaceForm(forms.Form):
    face = forms.IntegerField(label=_("Face"), min_value=0)


class CandidateDecisionForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"), choices=[("confirm", "This is the subject"), ("reject", "Not them")]
    )

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data["verdict"] == "confirm"


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=AccessRequestReply.Kind.choices, label=_("Reply"))
    pack = forms.IntegerField(required=False, label=_("Response pack sent"))
    sent_on = forms.DateField(label=_("Sent on"), widget=forms.DateInput(attrs={"type": "date"}))
    means = forms.CharField(
        max_length=200, label=_("Sent by"), help_text=_("e-mail, post, by hand")
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a partial reply: why the rest cannot be supplied yet (s19(2))."),
    )


class RefusalForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground"), choices=AccessRequestRefusal.Ground.choices)
    reasons = forms.CharField(
        label=_("Reasons"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    notified_on = forms.DateField(
        label=_("Requestor told on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the request has no complete reply or refusal (e.g. withdrawn)."),
    )
