"""The Celery app: with no CELERY_BROKER_URL, tasks run in-process (the embedded default).

With a broker, run workers with `celery -A governance worker` on machines that see the
sources (read-only, at the same paths), PROVENA_MEDIA_ROOT and the database; settings are the
CELERY_* names in governance/settings.py (see docs/scaling.md).
"""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _refuse_without_secret_key(**kwargs: object) -> None:
    from governance.checks import require_secret_key

    require_secret_key()
