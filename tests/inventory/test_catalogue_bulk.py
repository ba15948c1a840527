"""Large catalogue files: bounded rows per upload, set-based matching, background jobs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import AuditEvent, Department
from inventory.models import Asset, CatalogueImportJob, CatalogueNumber, Copy, Rendition, Source
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.catalogue import catalogue_import
from tests.inventory.scan_helpers import scan_folder

pytestmark = pytest.mark.django_db
PHOTOS = ("astronaut", "coffee", "brick", "chelsea")


@pytest.fixture
def library(archives: Path, role_users) -> Path:
    """Scan four real photographs into an LCSD source named library."""
    root = archives / "library"
    root.mkdir()
    for photo in PHOTOS:
        shutil.copyfile(PHOTOS_DIR / f"{photo}.jpg", root / f"{photo}.jpg")
    scan_folder(root, name="library", department="LCSD")
    return root


def catalogue(photos=PHOTOS) -> bytes:
    rows = [f"library:{p}.jpg,{p.title()} on file,LCSD,{i:04d}" for i, p in enumerate(photos)]
    return ("path,title,catalogue_scheme,catalogue_number\n" + "\n".join(rows) + "\n").encode()


def upload(user, data: bytes, *, dry_run: bool = False, follow: bool = False):
    client = Client()
    client.force_login(user)
    body = {"file": SimpleUploadedFile("catalogue.csv", data, content_type="text/csv")}
    if dry_run:
        body["dry_run"] = "1"
    return client.post("/assets/import/", body, follow=follow)


def titled() -> set[str]:
    return set(Asset.objects.exclude(title="").values_list("title", flat=True))


@pytest.mark.parametrize("background_rows", [100, 2], ids=["in-request", "background"])
def test_an_upload_over_the_row_limit_is_refused_with_a_400_and_writes_nothing(
    library, role_users, settings, background_rows
):
    settings.PROVENA_CATALOGUE_MAX_ROWS = 3
    settings.PROVENA_CATALOGUE_BACKGROUND_ROWS = background_rows

    response = upload(role_users["compliance"], catalogue())

    assert response.status_code == 400
    assert "more than 3 rows, the most one upload may hold" in response.content.decode()
    assert "split it into several files" in response.content.decode()
    assert titled() == set()
    assert not CatalogueImportJob.objects.exists()


def test_a_large_upload_is_imported_in_a_background_job_with_its_outcome(
    library, role_users, settings, django_capture_on_commit_callbacks
):
    settings.PROVENA_CATALOGUE_BACKGROUND_ROWS = 2
    user = role_users["compliance"]

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(user, catalogue())

    job = CatalogueImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assets/import/jobs/{job.pk}/"
    assert (job.status, job.progress, job.rows, job.assets_changed) == ("finished", 100, 4, 4)
    assert titled() == {f"{p.title()} on file" for p in PHOTOS}
    assert CatalogueNumber.objects.count() == 4
    assert AuditEvent.objects.filter(event_type="catalogued", agent_user=user).count() == 4
    page = Client()
    page.force_login(user)
    assert "Imported 4 rows: 4 assets changed." in page.get(response["Location"]).content.decode()
    assert not list((settings.PROVENA_MEDIA_ROOT / "catalogue-imports").iterdir())


def test_a_background_job_with_a_bad_row_writes_nothing_and_names_the_row(
    library, role_users, settings, django_capture_on_commit_callbacks
):
    settings.PROVENA_CATALOGUE_BACKGROUND_ROWS = 2
    data = catalogue() + b"library:missing.jpg,Ghost,LCSD,9999\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(role_users["compliance"], data)

    client = Client()
    client.force_login(role_users["compliance"])
    page = client.get(response["Location"]).content.decode()
    assert "Nothing written" in page and "1 of 5 rows that cannot be applied" in page
    assert "row 6 (library:missing.jpg): no copy at library:missing.jpg" in page
    assert titled() == set()


def test_a_job_is_shown_only_to_the_user_who_uploaded_it(
    library, role_users, settings, django_capture_on_commit_callbacks
):
    settings.PROVENA_CATALOGUE_BACKGROUND_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        upload(role_users["compliance"], catalogue(), dry_run=True)
    job = CatalogueImportJob.objects.get()
    other = Client()
    other.force_login(role_users["administrator"])

    assert other.get(f"/assets/import/jobs/{job.pk}/").status_code == 404


def _seed_copies(count: int) -> Source:
    """Bulk-create copies with renditions and assets (no files: the import reads the rows)."""
    department = Department.objects.get_or_create(code="LCSD")[0]
    source = Source.objects.create(name="bulk", root="/bulk", department=department)
    now = timezone.now()
    assets = Asset.objects.bulk_create([Asset() for _ in range(count)])
    renditions = Rendition.objects.bulk_create(
        Rendition(
            pixel_hash=hashlib.sha256(f"p{i}".encode()).hexdigest(),
            asset=asset,
            format="JPEG",
            width=10,
            height=10,
            mode="RGB",
        )
        for i, asset in enumerate(assets)
    )
    Copy.objects.bulk_create(
        Copy(
            source=source,
            path=f"img_{i:05d}.jpg",
            size=1,
            mtime_ns=0,
            sha256=hashlib.sha256(f"b{i}".encode()).hexdigest(),
            rendition=rendition,
            first_seen_at=now,
            last_seen_at=now,
        )
        for i, rendition in enumerate(renditions)
    )
    return source


def _bulk_file(count: int) -> bytes:
    lines = ["path,sha256,title,catalogue_scheme,catalogue_number"]
    for i in range(count):
        digest = hashlib.sha256(f"b{i}".encode()).hexdigest()
        key = f",{digest}" if i % 2 else f"bulk:img_{i:05d}.jpg,"
        lines.append(f"{key},Title {i},BULK,{i:05d}")
    return ("\n".join(lines) + "\n").encode()


def test_matching_and_writing_take_the_same_queries_for_ten_times_the_rows(role_users):
    _seed_copies(600)
    counts = []
    for first, rows in ((0, 50), (50, 500)):
        data = _bulk_file(first + rows).split(b"\n")
        body = b"\n".join([data[0], *data[1 + first : 1 + first + rows]]) + b"\n"
        with CaptureQueriesContext(connection) as queries:
            report = catalogue_import(data=body, user=role_users["compliance"], name="bulk.csv")
        assert report.ok and report.written and report.assets_changed == rows
        counts.append(len(queries))

    # Chunks of 500 keys: the larger file may need a few more queries, never one per row.
    assert counts[1] <= counts[0] + 10, counts
    assert Asset.objects.filter(title__startswith="Title ").count() == 550
    assert CatalogueNumber.objects.filter(scheme="BULK").count() == 550
