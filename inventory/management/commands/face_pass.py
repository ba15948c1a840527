"""Run the face pass now (it also runs after every scan), or re-apply the identifiable rule."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.encryption import EncodingKeyMissing
from inventory.events import ChangeKind, inventory_changed
from inventory.services.faces import faces_reclassify, faces_run


class Command(BaseCommand):
    help = (
        "Look for faces in renditions not yet checked under the current face settings, then "
        "open privacy cases. --reclassify re-applies PROVENA_FACE_MIN_PX/MIN_SCORE to stored "
        "faces without decoding anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--reclassify", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reclassify"]:
            changed = faces_reclassify()
            self.stdout.write(f"reclassified: {changed} renditions changed")
        else:
            try:
                result = faces_run(
                    workers=options["workers"],
                    progress=lambda done, total: self.stdout.write(f"\r{done}/{total}", ending=""),
                )
            except EncodingKeyMissing as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write("")
            self.stdout.write(
                f"face pass: {result.renditions} renditions, {result.with_faces} with faces, "
                f"{result.identifiable} with identifiable people, {result.failed} unreadable, "
                f"{result.seconds:.1f} s"
            )
        # The privacy app listens (PROVENA_INVENTORY_LISTENERS) and opens or updates cases.
        summary = inventory_changed(kind=ChangeKind.FACES_FOUND)
        cases = summary.get("privacy_cases")
        if cases is not None:
            self.stdout.write(f"privacy cases: {cases['opened']} opened, {cases['merged']} merged")
