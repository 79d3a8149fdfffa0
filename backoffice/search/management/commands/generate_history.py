"""``manage.py generate_history --payments N --councils K``: synthetic history to try search on."""

import time

from django.core.management.base import BaseCommand, CommandError

from fixtures.history import generate_history


class Command(BaseCommand):
    help = (
        "Load N synthetic payments (with their lines) over K councils named history-1, "
        "history-2..., for trying the transaction search at scale. PostgreSQL only. "
        "Benchmark history, not money: never run it on a council's live database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, required=True, help="How many payments.")
        parser.add_argument("--councils", type=int, default=3, help="Over how many councils.")
        parser.add_argument("--seed", type=int, default=1, help="The same seed, the same history.")

    def handle(self, *args, payments, councils, seed, **options):
        started = time.perf_counter()

        def progress(written):
            if written % 100_000 == 0 or written == payments:
                self.stdout.write(f"{written:,} payments written")

        try:
            summary = generate_history(
                payments=payments, councils=councils, seed=seed, progress=progress
            )
        except (RuntimeError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.payments:,} payments and {summary.lines:,} lines over "
                f"{summary.councils} councils in {time.perf_counter() - started:.0f} s."
            )
        )
