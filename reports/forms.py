"""Forms of the report pages: the build form and the verify upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from inventory.models import Source
from reports.models import Report


class ReportBuildForm(forms.Form):
    # A merge-readiness report starts from a partner's bundle (the Before a merge page).
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[c for c in Report.Kind.choices if c[0] != Report.Kind.MERGE_READINESS],
        initial=Report.Kind.AUDIT,
    )
    sources = forms.MultipleChoiceField(
        label=_("Sources"), required=False, help_text=_("None selected: every source you can see.")
    )
    departments = forms.MultipleChoiceField(label=_("Departments"), required=False)
    date_from = forms.DateField(
        required=False,
        label=_("Files first seen from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False, label=_("to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sign = forms.BooleanField(required=False, initial=True, label=_("Sign (PAdES)"))

    def __init__(self, *args: Any, sources: QuerySet[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = list(sources.select_related("department").order_by("name"))
        source_field, department_field = self.fields["sources"], self.fields["departments"]
        # Declared above as choice fields; isinstance tells the type checker so.
        assert isinstance(source_field, forms.ChoiceField)
        assert isinstance(department_field, forms.ChoiceField)
        source_field.choices = [(s.name, s.name) for s in visible]
        codes = sorted({s.department.code for s in visible if s.department})
        department_field.choices = [(code, code) for code in codes]
        if not settings.PROVENA_SIGNING_CERT:
            # Signing would be refused; do not offer a box that can only fail.
            self.fields["sign"].initial = False
            self.fields["sign"].disabled = True
            self.fields["sign"].help_text = _("No signing certificate is configured.")

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The period starts after it ends; swap the dates."))
        return data


class ReportVerifyForm(forms.Form):
    file = forms.FileField(label=_("Report PDF"))


class MergeCompareForm(forms.Form):
    """A partner's fingerprint bundle to compare with the sources the user may see."""

    bundle = forms.FileField(label=_("Partner's fingerprint bundle (.zip)"))
    sources = forms.MultipleChoiceField(
        label=_("Sources"), required=False, help_text=_("None selected: every source you can see.")
    )
    sign = forms.BooleanField(required=False, initial=True, label=_("Sign the report (PAdES)"))

    def __init__(self, *args: Any, sources: QuerySet[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source_field = self.fields["sources"]
        assert isinstance(source_field, forms.ChoiceField)
        source_field.choices = [(s.name, s.name) for s in sources.order_by("name")]
        if not settings.PROVENA_SIGNING_CERT:
            self.fields["sign"].initial = False
            self.fields["sign"].disabled = True
            self.fields["sign"].help_text = _("No signing certificate is configured.")
