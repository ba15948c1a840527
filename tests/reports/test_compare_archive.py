"""Comparing two archives through a signed fingerprint bundle: figures against how the trees
were made, refusals of bad bundles, and the signed merge-readiness report."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from inventory.models import Copy, Licence
from inventory.sample_archive import PHOTOS_DIR
from inventory.sample_edits import _crop, _exif_edit, _scaled
from reports.models import Report
from reports.signing import signing_certificate_create, signing_credentials_load
from tests.inventory.scan_helpers import scan_folder
from tests.reports.conftest import PASSWORD
from tests.reports.helpers import embedded_files, pdfsig

PARTNER_KEY = "the partner installation's own secret key"
# Both show an identifiable person; the other photographs show none.
FACES = {"astronaut", "grace_hopper"}


@dataclass(frozen=True)
class Trees:
    partner: Path
    ours: Path
    ours_web: Path
    # Partner files by how they relate to ours (the truth the comparison must find).
    exact_files: list[Path]  # byte-identical to one of ours
    exact_pixels: list[Path]  # same pixels, other bytes (caption edited)
    near: list[Path]  # resized or cropped from one of ours
    partner_only: list[Path]


def _photo(name: str) -> Path:
    return PHOTOS_DIR / f"{name}.jpg"


def build_trees(root: Path) -> Trees:
    """Build two overlapping archives from the sample photographs; return what overlaps."""
    ours, ours_web, partner = root / "ours", root / "ours_web", root / "partner"
    for folder in (ours, ours_web, partner):
        folder.mkdir(parents=True)
    for name in ("astronaut", "coffee", "chelsea", "rocket", "grace_hopper", "camera"):
        shutil.copyfile(_photo(name), ours / f"{name}.jpg")
    shutil.copyfile(_photo("coffee"), ours_web / "coffee-web-copy.jpg")
    exact_files = []
    for name in ("astronaut", "coffee"):
        exact_files.append(partner / f"{name}.jpg")
        shutil.copyfile(_photo(name), exact_files[-1])
    with Image.open(_photo("chelsea")) as im:
        exact_pixels = [_exif_edit(_photo("chelsea"), im, partner / "chelsea-captioned")]
    with Image.open(_photo("rocket")) as im:
        near = [_scaled(0.5)(_photo("rocket"), im.convert("RGB"), partner / "rocket-half")]
    with Image.open(_photo("grace_hopper")) as im:
        near.append(_crop(0.08)(_photo("grace_hopper"), im.convert("RGB"), partner / "grace"))
    partner_only = []
    for name in ("coins", "brick"):
        partner_only.append(partner / f"{name}.jpg")
        shutil.copyfile(_photo(name), partner_only[-1])
    return Trees(partner, ours, ours_web, exact_files, exact_pixels, near, partner_only)


@pytest.fixture(scope="session")
def partner_cert(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("partner") / "partner.p12"
    path.write_bytes(
        signing_certificate_create(
            common_name="Partner library signer",
            organisation="Partner library",
            password=PASSWORD,
            key_size=2048,
        )
    )
    return path


@pytest.fixture
def two_archives(archives: Path, role_users, settings, signing_cert, partner_cert, tmp_path):
    """Scan both trees (faces on), license coffee here, export the partner's bundle as the
    partner would (its own key and certificate); return the trees and the bundle."""
    settings.PROVENA_FACES = True
    trees = build_trees(archives)
    scan_folder(trees.partner, name="their_library", department="NEWS")
    scan_folder(trees.ours, name="ours_photos", department="LCSD")
    scan_folder(trees.ours_web, name="ours_web", department="NEWS")
    coffee = Copy.objects.get(source__name="ours_photos", path="coffee.jpg").decoded_rendition
    licence = Licence.objects.create(
        licensor="Picture Agency Ltd", reference="PA-77", start="2020-01-01", cost=1200
    )
    licence.assets.add(coffee.asset)
    bundle = tmp_path / "partner-bundle.zip"
    own_key, own_cert = settings.SECRET_KEY, settings.PROVENA_SIGNING_CERT
    settings.SECRET_KEY, settings.PROVENA_SIGNING_CERT = PARTNER_KEY, str(partner_cert)
    call_command(
        "export_fingerprints", "--output", str(bundle), "--source", "their_library", verbosity=0
    )
    settings.SECRET_KEY, settings.PROVENA_SIGNING_CERT = own_key, own_cert
    return trees, bundle


LOCAL = ("--source", "ours_photos", "--source", "ours_web")


def compare(bundle: Path, capsys, *args: str) -> dict:
    capsys.readouterr()
    call_command("compare_archive", str(bundle), *LOCAL, "--format", "json", *args)
    return json.loads(capsys.readouterr().out)


def test_comparison_finds_the_overlaps_the_trees_were_built_with(two_archives, capsys) -> None:
    trees, bundle = two_archives

    result = compare(bundle, capsys)

    exact = trees.exact_files + trees.exact_pixels
    assert result["exact"] == len(exact) == 3
    assert result["exact_files"] == len(trees.exact_files) == 2
    assert result["near"] == len(trees.near) == 2
    assert result["bytes_exact"] == sum(p.stat().st_size for p in exact)
    assert result["bytes_near"] == sum(p.stat().st_size for p in trees.near)
    # One more holding each of the astronaut (exact) and of Grace Hopper (cropped).
    assert result["personal_data_holdings_added"] == 2
    assert result["personal_data_photographs"] == 2
    assert result["double_paid_renditions"] == 1  # coffee: licensed on both sides
    assert result["partner"]["copies"] == 7
    by_source = {row["source"]: row for row in result["local_sources"]}
    assert by_source["ours_photos"]["exact_copies"] == 3
    assert by_source["ours_photos"]["near_copies"] == 2
    assert by_source["ours_web"]["exact_copies"] == 1  # the second copy of coffee
    assert by_source["ours_photos"]["exact_bytes"] == sum(
        (trees.ours / f"{n}.jpg").stat().st_size for n in ("astronaut", "coffee", "chelsea")
    )
    departments = {row["department"]: row for row in result["local_departments"]}
    assert departments["LCSD"]["exact_copies"] == 3 and departments["NEWS"]["exact_copies"] == 1
    # The partner holds the half-size rocket and a crop of Grace Hopper: ours are masters.
    masters = {copy["path"]: o["master"] for o in result["overlaps"] for copy in o["local_copies"]}
    assert masters["rocket.jpg"] == "local" and masters["grace_hopper.jpg"] == "local"
    assert "CN=Partner library signer" in result["bundle"]["signer"]


def test_the_bundle_carries_no_paths_pixels_or_metadata_unless_asked(two_archives) -> None:
    _, bundle = two_archives
    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "manifest.json.p7s", "renditions.jsonl"]
        rows = [json.loads(line) for line in zf.read("renditions.jsonl").splitlines()]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "provena.fingerprints" and manifest["version"] == 1
    assert manifest["data"]["rows"] == len(rows) == 7
    assert all("path" not in copy for row in rows for copy in row["copies"])
    assert all(set(row) == {"id", "asset", "pixel", "width", "height", "format", "phash",
                            "dhash", "keys", "probes", "personal", "licensed", "copies"}
               for row in rows)  # fmt: skip
    assert sum(row["personal"] for row in rows) == 2
    text = bundle.read_bytes()
    assert b"astronaut" not in text and b"Caption corrected" not in text


def test_personal_data_can_be_left_out_of_the_bundle(two_archives, settings, tmp_path) -> None:
    out = tmp_path / "no-people.zip"
    settings.SECRET_KEY = PARTNER_KEY
    call_command(
        "export_fingerprints", "--output", str(out), "--source", "their_library",
        "--exclude-personal-data", verbosity=0,
    )  # fmt: skip
    with zipfile.ZipFile(out) as zf:
        rows = [json.loads(line) for line in zf.read("renditions.jsonl").splitlines()]
        manifest = json.loads(zf.read("manifest.json"))
    assert len(rows) == 5 and not any(row["personal"] for row in rows)
    assert manifest["personal_data_rows_left_out"] == 2


def _rewrite(bundle: Path, target: Path, **members: bytes) -> Path:
    """Copy a bundle with some members replaced."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(target, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, members.get(name.replace(".", "_"), src.read(name)))
    return target


def _refused(bundle: Path, capsys, tmp_path: Path) -> str:
    report = tmp_path / "never.pdf"
    with pytest.raises(CommandError) as caught:
        call_command("compare_archive", str(bundle), *LOCAL, "--report", str(report))
    assert not report.exists() and not Report.objects.exists()
    return str(caught.value)


def _resigned(manifest: dict) -> tuple[bytes, bytes]:
    from reports.bundle_signing import manifest_sign

    data = json.dumps(manifest).encode()
    return data, manifest_sign(data, credentials=signing_credentials_load())


def test_bad_bundles_are_refused_with_the_reason(two_archives, capsys, tmp_path) -> None:
    _, bundle = two_archives
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        data = zf.read("renditions.jsonl")
    changed = {**manifest, "organisation": "Someone else"}
    forged = _rewrite(bundle, tmp_path / "forged.zip", manifest_json=json.dumps(changed).encode())
    assert "bad signature" in _refused(forged, capsys, tmp_path)

    rows = data.splitlines()
    tampered_data = b"\n".join([rows[0].replace(b'"personal":false', b'"personal":true')]
                               + rows[1:]) + b"\n"  # fmt: skip
    tampered = _rewrite(bundle, tmp_path / "tampered.zip", renditions_jsonl=tampered_data)
    assert "does not match the signed manifest" in _refused(tampered, capsys, tmp_path)

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    assert "not a whole fingerprint bundle" in _refused(truncated, capsys, tmp_path)

    manifest_v2, signature = _resigned({**manifest, "version": 2})
    v2 = _rewrite(bundle, tmp_path / "v2.zip", manifest_json=manifest_v2,
                  manifest_json_p7s=signature)  # fmt: skip
    assert "version 2" in _refused(v2, capsys, tmp_path)

    doubled = data + rows[0] + b"\n"
    manifest_dup, signature = _resigned(
        {**manifest, "data": {**manifest["data"], "rows": len(rows) + 1,
                              "sha256": hashlib.sha256(doubled).hexdigest()}}
    )  # fmt: skip
    duplicate = _rewrite(bundle, tmp_path / "dup.zip", renditions_jsonl=doubled,
                         manifest_json=manifest_dup, manifest_json_p7s=signature)  # fmt: skip
    assert "appears twice" in _refused(duplicate, capsys, tmp_path)


def test_a_bundle_from_this_archive_itself_is_said_so(two_archives, capsys, tmp_path) -> None:
    own = tmp_path / "own.zip"
    call_command("export_fingerprints", "--output", str(own), *LOCAL, verbosity=0)
    assert "from this archive itself" in _refused(own, capsys, tmp_path)


def test_signed_merge_report_validates_and_shows_the_reduction_after_clean_up(
    two_archives, capsys, tmp_path
) -> None:
    trees, bundle = two_archives
    first = tmp_path / "merge-1.pdf"
    compare(bundle, capsys, "--report", str(first), "--sign")

    report = Report.objects.get(kind=Report.Kind.MERGE_READINESS)
    assert report.signed and report.figures["exact"] == 3
    said = pdfsig(first)
    assert "Signature Validation: Signature is Valid." in said
    assert "Total document signed" in said
    attached = json.loads(embedded_files(first.read_bytes())["comparison.json"])
    assert attached["bundle"]["manifest_sha256"] == report.scope["bundle"]["manifest_sha256"]
    # Clean-up before the merge: our second copy of coffee and the captioned cat go.
    (trees.ours_web / "coffee-web-copy.jpg").unlink()
    (trees.ours / "chelsea.jpg").unlink()
    scan_folder(trees.ours, name="ours_photos")
    scan_folder(trees.ours_web, name="ours_web")
    second = tmp_path / "merge-2.pdf"
    result = compare(bundle, capsys, "--report", str(second), "--sign")

    assert result["exact"] == 2
    latest = Report.objects.filter(kind=Report.Kind.MERGE_READINESS).order_by("-id").first()
    assert latest is not None and latest.figures["exact"] == 2
    assert "Signature Validation: Signature is Valid." in pdfsig(second)
    from tests.reports.helpers import pdf_text

    text = pdf_text(second)
    assert f"Since the last comparison with this bundle ({report.number}" in text


def _upload(path: Path, name: str = "partner.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, path.read_bytes(), "application/zip")


def test_compliance_officer_page_builds_the_signed_report(two_archives, client, role_users):
    _, bundle = two_archives
    client.force_login(role_users["administrator"])
    page = client.get("/reports/merge/")
    assert page.status_code == 200 and b"Before a merge" in page.content

    response = client.post(
        "/reports/merge/",
        {"bundle": _upload(bundle), "sign": "on", "sources": ["ours_photos", "ours_web"]},
    )

    report = Report.objects.get(kind=Report.Kind.MERGE_READINESS)
    assert response.status_code == 302 and response["Location"].endswith(f"/{report.number}/")
    assert report.signed and report.figures["exact"] == 3


def test_page_refuses_a_bad_or_oversized_bundle_with_the_reason(
    two_archives, client, role_users, settings, tmp_path
) -> None:
    _, bundle = two_archives
    client.force_login(role_users["compliance"])
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(bundle.read_bytes()[:500])

    response = client.post("/reports/merge/", {"bundle": _upload(truncated)})

    assert response.status_code == 400
    assert b"not a whole fingerprint bundle" in response.content
    settings.PROVENA_BUNDLE_MAX_BYTES = 1024
    response = client.post("/reports/merge/", {"bundle": _upload(bundle)})
    assert response.status_code == 413 and b"PROVENA_BUNDLE_MAX_BYTES" in response.content
    assert not Report.objects.exists()


def test_roles_that_do_not_build_reports_may_not_compare(two_archives, client, role_users):
    _, bundle = two_archives
    client.force_login(role_users["legal"])
    assert client.get("/reports/merge/").status_code == 403
    assert client.post("/reports/merge/", {"bundle": _upload(bundle)}).status_code == 403
