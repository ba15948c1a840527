"""Give the roles their report permissions (view for all, build for compliance and admin)."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("governance", "0004_audit_roles"),
        ("inventory", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
