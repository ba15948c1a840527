"""manage.py setup_demo: demo users per role and a scanned sample archive (safe to re-run)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from governance import roles
from governance.models import Department, User
from inventory.models import Scan, Source
from inventory.sample_archive import build_sample_archive
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


class Command(BaseCommand):
    help = "Create demo users (one per role) and scan a small sample archive. Debug only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--archive",
            default=str(settings.VAR_DIR / "demo-archive"),
            help="where to build the sample archive (must be under PROVENA_ALLOWED_ROOTS)",
        )
        parser.add_argument("--no-scan", action="store_true", help="only users and sources")

    def handle(self, *args, **options) -> None:
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
        self.stdout.write("")
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, (role, department, _) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<12} {role} ({department})")

    @transaction.atomic
    def _users(self) -> None:
        for username, (role, code, organisation_wide) in DEMO_USERS.items():
            department, _ = Department.objects.get_or_create(code=code, defaults={"name": code})
            user, _ = User.objects.get_or_create(username=username)
            user.department = department
            user.organisation_wide = organisation_wide
            user.is_staff = role == roles.ADMINISTRATOR
            user.is_superuser = role == roles.ADMINISTRATOR
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
