"""The remediation pages (under /remediation/)."""

from __future__ import annotations

from django.urls import path

from governance.remediation import views

urlpatterns = [
    path("", views.dashboard, name="remediation-dashboard"),
    path("tasks/", views.task_list, name="remediation-tasks"),
    path("tasks/export.csv", views.task_csv, name="remediation-tasks-csv"),
    path("tasks/bulk/", views.task_bulk, name="remediation-tasks-bulk"),
    path("tasks/<int:pk>/", views.task_detail, name="remediation-task"),
    path("tasks/<int:pk>/status/", views.task_status, name="remediation-task-status"),
    path("execution/", views.execution, name="remediation-execution"),
    path("execution/<slug:name>/", views.execution_source, name="remediation-execution-source"),
    path("quarantine/", views.quarantine, name="remediation-quarantine"),
    path(
        "quarantine/<int:pk>/restore/",
        views.quarantine_restore_view,
        name="remediation-quarantine-restore",
    ),
    path("quarantine/purge/", views.quarantine_purge_view, name="remediation-quarantine-purge"),
    path("assets/<int:pk>/dispose/", views.asset_dispose, name="remediation-dispose"),
]
