"""Thin API views over remediation tasks: list and filter, status updates, bulk actions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import call_service, signed_in_user
from governance.remediation.api.serializers import (
    BulkResultSerializer,
    BulkSerializer,
    RemediationTaskSerializer,
    StatusSummarySerializer,
    TaskChangeSerializer,
    TaskStatusSerializer,
)
from governance.remediation.models import RemediationTask
from governance.remediation.selectors.dashboard import remediation_status
from governance.remediation.selectors.tasks import (
    task_history,
    tasks_filtered,
    tasks_visible_to,
    today,
)
from governance.remediation.services.tasks import task_status_set, tasks_bulk

_FILTER_PARAMETERS = [
    OpenApiParameter(
        "status", str, description="a status, or 'overdue' or 'outstanding' (not closed)"
    ),
    OpenApiParameter("department", str, description="department code"),
    OpenApiParameter("source", str, description="source name"),
    OpenApiParameter("action", str, enum=RemediationTask.Action.values),
    OpenApiParameter("severity", str, enum=list(RemediationTask.Severity.labels)),
    OpenApiParameter("owner", str, description="user name; '-' for tasks nobody owns"),
    OpenApiParameter("personal_data", bool),
    OpenApiParameter("decision", str, description="the deciding decision, as tasks name it"),
]


class RemediationTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Remediation tasks on copies in the sources the caller may see."""

    serializer_class = RemediationTaskSerializer
    queryset = RemediationTask.objects.none()  # for the permission class; scoped below
    filter_backends: list = []  # tasks_filtered does the filtering, as on the pages

    def get_queryset(self) -> QuerySet[RemediationTask]:
        tasks = tasks_visible_to(user=signed_in_user(self.request)).select_related("origin_type")
        return tasks_filtered(tasks=tasks, params=self.request.query_params, day=today()).order_by(
            "severity", "due_date", "pk"
        )

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": today()}

    @extend_schema(parameters=_FILTER_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=TaskChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """List the task's changes, oldest first."""
        task = self.get_object()
        return Response(TaskChangeSerializer(task_history(task=task), many=True).data)

    @extend_schema(request=TaskStatusSerializer, responses={200: RemediationTaskSerializer})
    # Updating status is its own permission (checked by the service), not "change" on the model.
    @action(
        detail=True,
        methods=["post"],
        url_path="status",
        url_name="set-status",
        permission_classes=[IsAuthenticated],
    )
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        """Move the task to open, in progress or done; verified comes only from evidence."""
        if not request.user.has_perm("remediation.view_remediationtask"):
            raise PermissionDenied("your role may not see remediation tasks")
        task = self.get_object()
        params = TaskStatusSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        task = call_service(
            lambda: task_status_set(
                task=task,
                status=params.validated_data["status"],
                user=signed_in_user(request),
                note=params.validated_data["note"],
            )
        )
        task = self.get_queryset().get(pk=task.pk)
        return Response(self.get_serializer(task).data)

    @extend_schema(request=BulkSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def bulk(self, request: Request) -> Response:
        """Assign, reschedule or waive several tasks at once (all or none)."""
        if not request.user.has_perm("remediation.view_remediationtask"):
            raise PermissionDenied("your role may not see remediation tasks")
        params = BulkSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        ids = set(data["tasks"])
        tasks = list(tasks_visible_to(user=signed_in_user(request)).filter(pk__in=ids))
        missing = sorted(ids - {task.pk for task in tasks})
        if missing:
            raise ValidationError(
                {"tasks": [f"task {missing[0]} does not exist or is not yours to see"]}
            )
        changed = call_service(
            lambda: tasks_bulk(
                action=data["action"],
                tasks=tasks,
                user=signed_in_user(request),
                owner=data["owner"],
                due_date=data["due_date"],
                reason=data["reason"],
            )
        )
        return Response({"action": data["action"], "changed": changed})


class RemediationStatusView(APIView):
    """Counts by status, department and age: what `manage.py remediation_status` prints."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=StatusSummarySerializer)
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("remediation.view_remediationtask"):
            raise PermissionDenied("your role may not see remediation tasks")
        day = today()
        return Response(
            remediation_status(tasks=tasks_visible_to(user=signed_in_user(request)), day=day)
        )
