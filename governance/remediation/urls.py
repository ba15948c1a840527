"""The remediation pages (under /remediation/)."""

from __future__ import annotations

from django.urls import path

from governance.remediation.views import dashboard, disposal, execution, tasks

urlpatterns = [
    path("", dashboard.dashboard, name="remediation-dashboard"),
    path("tasks/", tasks.task_list, name="remediation-tasks"),
    path("tasks/export.csv", tasks.task_csv, name="remediation-tasks-csv"),
    path("tasks/bulk/", tasks.task_bulk, name="remediation-tasks-bulk"),
    path("tasks/<int:pk>/", tasks.task_detail, name="remediation-task"),
    path("tasks/<int:pk>/status/", tasks.task_status, name="remediation-task-status"),
    path("execution/", execution.execution, name="remediation-execution"),
    path("execution/<slug:name>/", execution.execution_source, name="remediation-execution-source"),
    path("quarantine/", execution.quarantine, name="remediation-quarantine"),
    path(
        "quarantine/<int:pk>/restore/",
        execution.quarantine_restore_view,
        name="remediation-quarantine-restore",
    ),
    path("quarantine/purge/", execution.quarantine_purge_view, name="remediation-quarantine-purge"),
    path("assets/<int:pk>/dispose/", disposal.asset_dispose, name="remediation-dispose"),
]
