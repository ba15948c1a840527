"""Pages answering a data access request (legal role): the reply sent, a refusal, closing, and
the refusal log. Thin views on governance.privacy.services.request_replies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.errors import validation_text
from governance.http import AuthenticatedRequest
from governance.privacy.forms.requests import CloseForm, RefusalForm, ReplyForm
from governance.privacy.models import AccessRequestRefusal, ResponsePack
from governance.privacy.selectors.requests import refusal_log
from governance.privacy.services.request_replies import (
    access_request_close,
    access_request_refuse,
    access_request_reply_record,
)
from governance.privacy.views.requests import WORK, _detail, _visible


def _form_error(form: ReplyForm | RefusalForm | CloseForm) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(e) for e in errors)}"
        if name != "__all__"
        else " ".join(str(e) for e in errors)
        for name, errors in form.errors.items()
    )


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_reply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Record that a reply (complete, or partial with reasons) was sent to the data subject."""
    dsar = _visible(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _detail(request, dsar, error=_form_error(form), status=400)
    data = form.cleaned_data
    pack = None
    if data["pack"] is not None:
        pack = ResponsePack.objects.filter(request=dsar, pk=data["pack"]).first()
        if pack is None:
            error = f"pack: response pack {data['pack']} is not one of this request's"
            return _detail(request, dsar, error=error, status=400)
    try:
        reply = access_request_reply_record(
            request=dsar,
            kind=data["kind"],
            pack=pack,
            sent_on=data["sent_on"],
            means=data["means"],
            reasons=data["reasons"],
            user=request.user,
        )
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    late = reply.sent_on > dsar.due_on
    text = _("%(kind)s sent on %(sent)s recorded.") % {
        "kind": capfirst(reply.get_kind_display()),
        "sent": f"{reply.sent_on:%Y-%m-%d}",
    }
    if late:
        messages.warning(
            request,
            _("%(text)s It was sent after the due date (%(due)s).")
            % {"text": text, "due": dsar.due_on},
        )
    else:
        messages.success(request, text)
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_refuse(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Refuse the request with a ground and reasons; the refusal goes into the refusal log."""
    dsar = _visible(request, pk)
    form = RefusalForm(request.POST)
    if not form.is_valid():
        return _detail(request, dsar, error=_form_error(form), status=400)
    try:
        access_request_refuse(request=dsar, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    messages.success(
        request, _("Request %(pk)s refused; the refusal is in the refusal log.") % {"pk": dsar.pk}
    )
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Close the request; its data is deleted after the retention period."""
    dsar = _visible(request, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _detail(request, dsar, error=_form_error(form), status=400)
    try:
        access_request_close(request=dsar, note=form.cleaned_data["note"], user=request.user)
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    messages.success(request, _("Request %(pk)s closed.") % {"pk": dsar.pk})
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required("privacy.view_accessrequestrefusal", raise_exception=True)
def dsar_refusals(request: AuthenticatedRequest) -> HttpResponse:
    """The refusal log (PDPO s27): every refused request, its ground and reasons."""
    return render(
        request,
        "privacy/dsar_refusals.html",
        {"refusals": refusal_log(user=request.user), "grounds": AccessRequestRefusal.Ground},
    )
