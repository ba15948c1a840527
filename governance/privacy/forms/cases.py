"""Forms for deciding privacy cases and recording consent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.privacy.models import ConsentRecord, PrivacyDecision
from governance.privacy.selectors.cases import consents_in_force


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=PrivacyDecision.Outcome.choices)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        required=False,
        max_length=300,
        help_text=_("Required to retain every copy, e.g. PDPO s.26 exemption, archive purposes."),
    )
    consent = forms.ModelChoiceField(
        label=_("Consent"),
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
        label=_("Approved"),
        choices=[("yes", "approve"), ("no", "reject")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class ConsentForm(forms.Form):
    subject_reference = forms.CharField(label=_("Subject reference"), max_length=200)
    document_reference = forms.CharField(
        label=_("Document reference"),
        max_length=200,
        help_text=_("Where the signed consent form is kept."),
    )
    scope = forms.CharField(
        label=_("Scope"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    obtained_on = forms.DateField(
        label=_("Obtained on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

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
