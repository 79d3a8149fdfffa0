"""Enqueue the periodic background tasks on time: the one process a council runs beside
``db_worker``. Where cron is preferred, call ``settle_payments`` and ``run_exports`` from it
instead."""

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Enqueue the lost-payment check every few minutes and the departmental exports once a day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue each task once (yesterday's exports included) and stop.",
        )
        parser.add_argument(
            "--settle-every",
            type=int,
            default=5,
            metavar="MINUTES",
            help="Minutes between lost-payment checks (default 5).",
        )
        parser.add_argument(
            "--exports-at",
            default="02:00",
            metavar="HH:MM",
            help="Local time to write yesterday's exports (default 02:00).",
        )

    def handle(self, *args, once, settle_every, exports_at, **options):
        try:
            hour, minute = (int(part) for part in exports_at.split(":"))
            exports_time = datetime.time(hour, minute)
        except ValueError:
            self.stderr.write(f"--exports-at takes HH:MM, not '{exports_at}'.")
            raise SystemExit(2) from None
        if once:
            self._settle()
            self._exports(timezone.localdate() - datetime.timedelta(days=1))
            return
        self.stdout.write(
            f"Scheduling: lost-payment check every {settle_every} min, "
            f"exports daily at {exports_time:%H:%M} ({settings.TIME_ZONE})."
        )
        next_settle = time.monotonic()
        exported_for = None
        while True:
            if time.monotonic() >= next_settle:
                self._settle()
                next_settle = time.monotonic() + settle_every * 60
            now = timezone.localtime()
            yesterday = now.date() - datetime.timedelta(days=1)
            # Exports never write a day twice, so enqueuing again after a
            # restart is harmless; this only avoids doing it every loop.
            if now.time() >= exports_time and exported_for != yesterday:
                self._exports(yesterday)
                exported_for = yesterday
            time.sleep(20)

    def _settle(self):
        from plugins.tasks import settle_lost_payments_task

        result = settle_lost_payments_task.enqueue()
        self.stdout.write(f"Enqueued the lost-payment check ({result.id}).")

    def _exports(self, day: datetime.date):
        from plugins.exports import exports_run_task

        result = exports_run_task.enqueue(day.isoformat())
        self.stdout.write(f"Enqueued the exports for {day:%Y-%m-%d} ({result.id}).")
