"""On PostgreSQL, a trigram index for searching copies by part of their path.

The copies page and the API filter with `path__icontains` (`UPPER(path) LIKE UPPER('%...%')`),
which no B-tree serves; at millions of copies a GIN trigram index on UPPER(path) does. Built
CONCURRENTLY so an existing inventory keeps taking writes. SQLite: nothing to do.
"""

from django.db import migrations

INDEX = "inventory_copy_path_trgm"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
        "ON inventory_copy USING gin (UPPER(path) gin_trgm_ops)"
    )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0005_scan_batches")]

    operations = [migrations.RunPython(create, drop)]
