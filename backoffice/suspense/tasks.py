"""Background tasks of suspense, run by django-tasks (``manage.py db_worker``)."""

import dataclasses

from django_tasks import task

from backoffice.tenancy.models import Organisation

from .models import SuspenseItem
from .services import suspense_run_rules


@task()
def allocate_arrivals_task(payment_id: int) -> dict:
    """Run the suspense rules on the items a payment just put in suspense.

    Enqueued when the payment commits; returns the counts (tried, allocated,
    allocated_pence, failed), which a task result must store as JSON.
    """
    items = list(
        SuspenseItem.objects.filter(payment_line__payment_id=payment_id).select_related(
            "organisation"
        )
    )
    organisation = items[0].organisation if items else None
    return dataclasses.asdict(suspense_run_rules(organisation=organisation, items=items))


@task()
def allocate_open_items_task(organisation_id: int) -> dict:
    """Run the suspense rules on every open item of a council (the admin's "Run the rules")."""
    report = suspense_run_rules(organisation=Organisation.objects.get(pk=organisation_id))
    return dataclasses.asdict(report)
