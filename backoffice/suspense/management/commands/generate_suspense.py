"""``manage.py generate_suspense``: realistic suspense items, run through the council's rules."""

from django.core.management.base import BaseCommand, CommandError

from backoffice.suspense.models import SuspenseAllocation, SuspenseItem
from backoffice.tenancy.models import Organisation


class Command(BaseCommand):
    help = (
        "Give a council accounts its departments know (a departmental files integration with "
        "their lists) and payments whose references carry the mistakes payers make; each "
        "lands in suspense and the council's switched-on rules run on it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", default="barchester", help="The council's code.")
        parser.add_argument("--items", type=int, default=100, help="How many suspense items.")
        parser.add_argument("--seed", type=int, default=2024, help="For the same items again.")
        parser.add_argument(
            "--scale",
            type=float,
            default=0.1,
            help="The size of the departments' lists, as a share of a district council's.",
        )

    def handle(self, *args, council, items, seed, scale, **options):
        from fixtures.suspense import generate_suspense

        organisation = Organisation.objects.filter(code=council).first()
        if organisation is None:
            raise CommandError(f"No council has the code '{council}'.")
        if items < 1:
            raise CommandError("Make at least one item.")
        before = SuspenseItem.objects.filter(organisation=organisation).count()
        generated = generate_suspense(
            organisation,
            items=items,
            seed=seed,
            scale=scale,
            key_prefix=f"generated-suspense-{seed}-{before}",
        )
        keys = [item.key for item in generated.items]
        made = SuspenseItem.objects.filter(
            organisation=organisation, payment_line__payment__idempotency_key__in=keys
        )
        allocated = (
            SuspenseAllocation.objects.filter(item__in=made, rule__isnull=False)
            .values("item")
            .distinct()
            .count()
        )
        self.stdout.write(
            f"{len(keys)} suspense items made for {organisation}: the rules allocated "
            f"{allocated}, and {len(keys) - allocated} wait for a person (Suspense > Items)."
        )
