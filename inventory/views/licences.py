"""Pages over licences: the list, recording a licence, and the exposures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from governance.http import AuthenticatedRequest
from governance.models import Department, User
from governance.roles import is_organisation_wide
from inventory.models import Source
from inventory.selectors.licences import licence_exposures, licences_visible_to, today
from inventory.selectors.visibility import sources_visible_to
from inventory.services.licences import licence_create


class LicenceForm(forms.Form):
    licensor = forms.CharField(label=_("Licensor"), max_length=300)
    reference = forms.CharField(label=_("Reference"), max_length=200)
    permitted_uses = forms.CharField(
        label=_("Permitted uses"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    start = forms.DateField(label=_("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("End"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    cost = forms.DecimalField(
        label=_("Cost"), max_digits=14, decimal_places=2, min_value=0, initial=0
    )
    currency = forms.CharField(label=_("Currency"), max_length=8, required=False)
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments"), queryset=Department.objects.none(), required=False
    )
    sources = forms.ModelMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources, departments = self.fields["sources"], self.fields["departments"]
        # Declared above as model choice fields; isinstance tells the type checker so.
        assert isinstance(sources, forms.ModelMultipleChoiceField)
        assert isinstance(departments, forms.ModelMultipleChoiceField)
        sources.queryset = sources_visible_to(user=user)
        held = Department.objects.all()
        if not is_organisation_wide(user=user):
            held = (
                held.filter(pk=user.department_id)
                if user.department_id is not None
                else held.none()
            )
        departments.queryset = held


@login_required
@permission_required("inventory.view_licence", raise_exception=True)
def licence_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the licences the user may see, with a form to record one for those allowed."""
    user = request.user
    can_add = user.has_perm("inventory.add_licence")
    form = LicenceForm(request.POST or None, user=user) if can_add else None
    if request.method == "POST":
        if form is None:  # the form is only made for those who may add
            raise PermissionDenied("your role may not record licences")
        if form.is_valid():
            data = form.cleaned_data
            try:
                licence = licence_create(user=user, **data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Licence %(licence)s recorded.") % {"licence": licence})
                return redirect("licence-list")
    licences = (
        licences_visible_to(user=user)
        .prefetch_related("departments", "sources", "assets")
        .order_by("licensor", "reference")
    )
    day = today()
    return render(
        request,
        "inventory/licence_list.html",
        {
            "licences": [(lic, lic.in_force_on(day)) for lic in licences],
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@permission_required("inventory.view_licence", raise_exception=True)
def exposure_list(request: AuthenticatedRequest) -> HttpResponse:
    """Show copies held outside their licences, licences that ended, assets bought twice."""
    return render(
        request,
        "inventory/exposure_list.html",
        {"exposures": licence_exposures(user=request.user), "today": today()},
    )
