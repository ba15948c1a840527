"""Give the roles the permissions on near-duplicate matches."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_near_duplicates"),
        ("governance", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
