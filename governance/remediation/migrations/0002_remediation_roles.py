"""Give the roles their remediation permissions (governance/roles.py)."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("remediation", "0001_initial"),
        ("inventory", "0008_asset_roles"),
        ("reports", "0002_report_roles"),
        ("governance", "0004_audit_roles"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
