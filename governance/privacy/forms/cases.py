"""Forms for deciding privacy cases and recording consent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.privacy.models import ConsentRecord, PrivacyDecision
from governance.privacy.selectors.cases import consents_in_force


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=PrivacyDecision.Outcome.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    legal_basis = forms.CharField(
        required=False,
        max_length=300,
        help_text=_("Required to retain every copy, e.g. PDPO s.26 exemption, archive purposes."),
    )
    consent = forms.ModelChoiceField(
        queryset=ConsentRecord.objects.none(),
        required=False,
        help_text=_("Required for 'consent on file'."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consent = self.fields["consent"]
        assert isinstance(consent, forms.ModelChoiceField)  # declared above
        consent.queryset = consents_in_force()


class ApprovalForm(forms.Form):
    approved = forms.TypedChoiceField(
        choices=[("yes", "approve"), ("no", "reject")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class ConsentForm(forms.Form):
    subject_reference = forms.CharField(max_length=200)
    document_reference = forms.CharField(
        max_length=200, help_text=_("Where the signed consent form is kept.")
    )
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    obtained_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("expires_on")
            and data.get("obtained_on")
            and (data["expires_on"] < data["obtained_on"])
        ):
            self.add_error("expires_on", _("consent cannot expire before it was obtained"))
        return data
