"""manage.py create_signing_cert: a self-signed PKCS#12 signing certificate for trials."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.files import write_bytes_atomic
from reports.signing import new_password, signing_certificate_create


class Command(BaseCommand):
    help = (
        "Create a self-signed RSA 3072 signing certificate (PKCS#12) for trials. Reports signed "
        "with it verify in Provena; other readers show the signer as not trusted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="the .p12 file to write")
        parser.add_argument(
            "--common-name",
            default=None,
            help="the signer's name (default: '<organisation> reports (trial)')",
        )
        parser.add_argument("--days", type=int, default=365, help="validity (default 365 days)")
        parser.add_argument(
            "--password-file",
            help="read the password from this file (default: prompt, or generate one and print it)",
        )
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def _password(self, options: dict) -> tuple[str, bool]:
        if options["password_file"]:
            try:
                text = Path(options["password_file"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(
                    f"cannot read --password-file {options['password_file']}: {exc.strerror}"
                ) from exc
            if not text:
                raise CommandError(f"--password-file {options['password_file']} is empty")
            return text, False
        if sys.stdin.isatty():
            first = getpass.getpass("Password for the certificate (empty: generate one): ")
            if not first:
                return new_password(), True
            if getpass.getpass("Again: ") != first:
                raise CommandError("the passwords differ; nothing was written")
            return first, False
        return new_password(), True

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if output.exists() and not options["force"]:
            raise CommandError(f"{output} already exists; choose another --output or add --force")
        if not output.parent.is_dir():
            raise CommandError(f"the folder {output.parent} does not exist")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        password, generated = self._password(options)
        organisation = settings.PROVENA_ORGANISATION
        common_name = options["common_name"] or f"{organisation} reports (trial)"
        data = signing_certificate_create(
            common_name=common_name,
            organisation=organisation,
            password=password,
            days=options["days"],
        )
        try:
            # A private key: readable by its owner only.
            write_bytes_atomic(output, data, mode=0o600, create_folder=False)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        self.stdout.write(
            f"wrote {output}: self-signed RSA 3072 certificate CN={common_name}, "
            f"valid {options['days']} days"
        )
        if generated:
            self.stdout.write(f"password: {password}")
            self.stdout.write("keep it safe; it is not stored anywhere")
        self.stdout.write(
            f"use it with PROVENA_SIGNING_CERT={output.resolve()} and PROVENA_SIGNING_PASSWORD "
            "(or PROVENA_SIGNING_PASSWORD_FILE)"
        )
