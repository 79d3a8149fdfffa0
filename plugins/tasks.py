"""Background tasks of the plugin system, run by django-tasks (``manage.py db_worker``)."""

import dataclasses
import datetime

from django.conf import settings
from django_tasks import task

from . import online


@task()
def settle_lost_payments_task() -> dict:
    """The periodic check for online payments whose callback never came.

    Settles every online payment still open after
    ``SETTLE_PAYMENTS_AFTER_MINUTES`` by asking its provider, and expires
    those whose payer never reached the provider. Returns the counts
    (checked, settled, still_open, unreachable, expired), which a task
    result must be able to store as JSON.
    """
    report = online.settle_lost_payments(
        older_than=datetime.timedelta(minutes=settings.SETTLE_PAYMENTS_AFTER_MINUTES)
    )
    return dataclasses.asdict(report)
