"""Give the roles the permissions on masters, merges, splits, the catalogue and licences."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_assets_catalogue_licences"),
        ("governance", "0004_audit_roles"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
