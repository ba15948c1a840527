"""manage.py setup_demo: demo users per role, a scanned sample archive and a few licences
(safe to re-run)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from governance import roles
from governance.models import Department, User
from inventory.models import Copy, Licence, LicenceAttachment, Scan, Source
from inventory.sample_archive import build_sample_archive
from inventory.services.licences import licence_attach, licence_create
from inventory.services.scan import scan_run
from inventory.services.sources import SourceRefused, source_register

DEMO_PASSWORD = "provena-demo"
# user name -> (role, department code, organisation-wide)
DEMO_USERS = {
    "compliance": (roles.COMPLIANCE_OFFICER, "LCSD", True),
    "legal": (roles.LEGAL_REVIEWER, "LCSD", True),
    "manager": (roles.MANAGER, "LCSD", False),
    "auditor": (roles.AUDITOR, "AUDIT", True),
    "admin": (roles.ADMINISTRATOR, "IT", True),
    "newsdesk": (roles.COMPLIANCE_OFFICER, "NEWS", False),
}
# source -> (department, risk tier, authoritative)
DEMO_SOURCES = {
    "film_archive": ("LCSD", Source.RiskTier.ARCHIVE, True),
    "newsroom": ("NEWS", Source.RiskTier.EXTERNAL, False),
    "web_team": ("NEWS", Source.RiskTier.EXTERNAL, False),
}
# reference -> (licensor, the still it licenses, departments covered, start and end in days
# from today, cost in HKD), chosen so each exposure list shows something: the coffee still
# is licensed to LCSD only but NEWS holds copies; the cat's licence has ended; the rocket
# was licensed twice for overlapping periods.
DEMO_LICENCES = {
    "HI-2024-0117": ("Harbour Images Ltd", "coffee", ["LCSD"], -400, None, "1800.00"),
    "PA-2022-0932": ("Pearl Agency", "chelsea", ["LCSD", "NEWS"], -1100, -45, "950.00"),
    "SP-2023-0410": ("Space Pictures Inc", "rocket", ["LCSD", "NEWS"], -700, 300, "1200.00"),
    "SP-2024-0288": ("Space Pictures Inc", "rocket", ["NEWS"], -200, None, "600.00"),
}


class Command(BaseCommand):
    help = "Create demo users (one per role) and scan a small sample archive. Debug only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--archive",
            default=str(settings.VAR_DIR / "demo-archive"),
            help="where to build the sample archive (must be under PROVENA_ALLOWED_ROOTS)",
        )
        parser.add_argument("--no-scan", action="store_true", help="only users and sources")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "setup_demo creates accounts with a published password; "
                "it runs only with PROVENA_DEBUG=true"
            )
        self._users()
        roots = build_sample_archive(Path(options["archive"]))
        sources = []
        for name, root in roots.items():
            department, tier, authoritative = DEMO_SOURCES[name]
            try:
                sources.append(
                    source_register(
                        root=root,
                        name=name,
                        department_code=department,
                        risk_tier=tier,
                        authoritative=authoritative,
                    )
                )
            except SourceRefused as exc:
                raise CommandError(
                    f"{exc}. Add {Path(options['archive']).resolve()} to PROVENA_ALLOWED_ROOTS"
                ) from exc
        if not options["no_scan"]:
            for source in sources:
                scan = scan_run(source=source)
                if scan.status != Scan.Status.FINISHED:
                    raise CommandError(
                        f"scan of {source.name} {scan.status}: {scan.failure_reason}"
                    )
                self.stdout.write(
                    f"scanned {source.name}: {scan.files_seen} files, {scan.errors} errors, "
                    f"{scan.duplicate_groups} duplicate groups"
                )
            added = self._licences()
            self.stdout.write(f"licences: {added} recorded, {len(DEMO_LICENCES) - added} kept")
        self.stdout.write("")
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, (role, department, _) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<12} {role} ({department})")

    @transaction.atomic
    def _licences(self) -> int:
        """Record and attach the demo licences not yet recorded; return how many were new."""
        admin = User.objects.get(username="admin")
        today = timezone.localdate()
        added = 0
        for reference, (licensor, photo, codes, start, end, cost) in DEMO_LICENCES.items():
            licence = Licence.objects.filter(reference=reference).first()
            if licence is None:
                licence = licence_create(
                    user=admin,
                    licensor=licensor,
                    reference=reference,
                    start=today + datetime.timedelta(days=start),
                    end=today + datetime.timedelta(days=end) if end is not None else None,
                    cost=Decimal(cost),
                    currency="HKD",
                    departments=Department.objects.filter(code__in=codes),
                )
                added += 1
            still = Copy.objects.select_related("rendition").get(
                source__name="film_archive", path=f"stills/{photo}.jpg"
            )
            asset = still.rendition.asset if still.rendition is not None else None
            if asset is None:
                raise CommandError(f"the demo scan grouped no asset for stills/{photo}.jpg")
            if not LicenceAttachment.objects.filter(licence=licence, asset=asset).exists():
                licence_attach(licence=licence, asset=asset, user=admin)
        return added

    @transaction.atomic
    def _users(self) -> None:
        for username, (role, code, organisation_wide) in DEMO_USERS.items():
            department, _ = Department.objects.get_or_create(code=code, defaults={"name": code})
            user, _ = User.objects.get_or_create(username=username)
            user.department = department
            user.organisation_wide = organisation_wide
            user.is_staff = role == roles.ADMINISTRATOR
            # Not a superuser: a superuser would hold every permission Django knows, and the
            # administrator role is not the legal role (privacy data is for the legal role only).
            user.is_superuser = False
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
