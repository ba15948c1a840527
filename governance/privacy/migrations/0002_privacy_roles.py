"""Give the legal role the privacy permissions."""

from __future__ import annotations

from django.db import migrations


def sync(apps, schema_editor) -> None:
    from governance.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_privacy_review"),
        ("inventory", "0009_faces"),
        ("remediation", "0002_remediation_roles"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
