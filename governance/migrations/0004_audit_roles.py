"""Give every role the permission to read the audit log."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_audit_log"),
        ("inventory", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
