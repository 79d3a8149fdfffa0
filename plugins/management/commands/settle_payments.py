"""``manage.py settle_payments``: the periodic check for lost online payments, run once now."""

import argparse
import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from plugins.online import settle_lost_payments


def _minutes(text: str) -> int:
    # argparse shows these messages after "argument --older-than:".
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of minutes, not '{text}'") from None
    if minutes < 0:
        raise argparse.ArgumentTypeError(f"0 minutes or more, not {minutes}")
    return minutes


class Command(BaseCommand):
    help = (
        "Ask the payment provider about every online payment still open after a while "
        "(its callback may have been lost), record what it says, and expire payments "
        "whose payer never reached the provider."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=_minutes,
            default=None,
            metavar="MINUTES",
            help="Only payments started at least this many minutes ago (default: the "
            f"SETTLE_PAYMENTS_AFTER_MINUTES setting, {settings.SETTLE_PAYMENTS_AFTER_MINUTES}).",
        )

    def handle(self, *args, older_than, **options):
        if older_than is None:
            older_than = settings.SETTLE_PAYMENTS_AFTER_MINUTES
        report = settle_lost_payments(older_than=datetime.timedelta(minutes=older_than))
        self.stdout.write(
            f"Online payments open for more than {older_than} minutes: {report.checked} checked, "
            f"{report.settled} settled, {report.expired} expired (payer never reached the "
            f"provider), {report.still_open} still open, {report.unreachable} could not be "
            "checked (provider unreachable)."
        )
        if report.unreachable:
            self.stderr.write(
                f"{report.unreachable} payments could not be checked; they are tried again "
                "next time. The log says which and why."
            )
