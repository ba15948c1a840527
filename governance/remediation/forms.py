"""Forms behind the remediation pages: bulk actions and a task's status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from governance.remediation.models import RemediationTask

BULK_ACTIONS = (("assign", _("assign")), ("reschedule", _("reschedule")), ("waive", _("waive")))
MANUAL_STATUSES = (
    RemediationTask.Status.OPEN,
    RemediationTask.Status.IN_PROGRESS,
    RemediationTask.Status.DONE,
)


class BulkForm(forms.Form):
    """Assign, reschedule or waive the chosen tasks."""

    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    owner = forms.CharField(
        label=_("Owner"), required=False, help_text=_("A user name; '-' for nobody.")
    )
    due_date = forms.DateField(label=_("Due date"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)

    def __init__(self, data: QueryDict, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.task_ids = sorted(
            {int(raw) for raw in data.getlist("tasks") if str(raw).isdigit()}
            if hasattr(data, "getlist")
            else set()
        )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if not self.task_ids:
            self.add_error(None, _("choose at least one task"))
        action = data.get("action")
        if action == "assign" and not data.get("owner"):
            self.add_error("owner", _("name the owner (a user name, or '-' for nobody)"))
        if action == "reschedule" and not data.get("due_date"):
            self.add_error("due_date", _("give the new due date (YYYY-MM-DD)"))
        if action == "waive" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("say why the work is waived"))
        return data


class StatusForm(forms.Form):
    """Move one task to a status by hand."""

    status = forms.CharField(label=_("Status"), max_length=32)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


def form_errors(form: forms.Form) -> list[str]:
    """Return the form's errors as sentences naming the field."""
    messages: list[str] = []
    for name, errors in form.errors.items():
        for error in errors:
            messages.append(str(error) if name == "__all__" else f"{name}: {error}")
    return messages
