"""manage.py run_exports: write the departmental files of a day (yesterday unless told)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backoffice.tenancy.models import Organisation
from plugins.exports import exports_run


class Command(BaseCommand):
    help = (
        "Write each enabled departmental integration's files for a day (yesterday by "
        "default) under EXPORT_ROOT. A day already written is skipped unless --rerun."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", help="The day to write, as YYYY-MM-DD. Default: yesterday.")
        parser.add_argument("--council", help="Only this council (its code).")
        parser.add_argument(
            "--rerun",
            action="store_true",
            help="Write the day again even if it was written before; earlier files are kept "
            "in superseded/.",
        )

    def handle(self, *args, day=None, council=None, rerun=False, **options):
        if day:
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                raise CommandError(f"--day {day} is not a date written as YYYY-MM-DD.") from None
        else:
            day = timezone.localdate() - datetime.timedelta(days=1)
        organisation = None
        if council:
            organisation = Organisation.objects.filter(code=council).first()
            if organisation is None:
                raise CommandError(f"There is no council with the code '{council}'.")
        outcomes = exports_run(organisation=organisation, day=day, rerun=rerun)
        if not outcomes:
            self.stdout.write(f"No enabled departmental integrations: nothing to write for {day}.")
        for outcome in outcomes:
            if outcome.status == "failed":
                self.stderr.write(str(outcome))
            else:
                self.stdout.write(str(outcome))
                for path in outcome.paths:
                    self.stdout.write(f"  {path}")
        failed = [outcome for outcome in outcomes if outcome.status == "failed"]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(outcomes)} integrations failed; see the messages above."
            )
