"""ASGI entry point."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from governance.checks import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_asgi_application()
require_secret_key()
