from django.core.management.base import BaseCommand

from fixtures.demo import load_demo_council

DEMO_PASSWORD = "barchester-demo"  # noqa: S105 - printed for anyone running the demo


class Command(BaseCommand):
    help = "Load (or bring up to date) the demo council and its demo staff, and print their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help="The password every demo account gets (default: %(default)s).",
        )
        parser.add_argument(
            "--admin-url",
            default="http://127.0.0.1:8000/admin/",
            help="Where the back office will be served, for the printed instructions.",
        )

    def handle(self, *args, password, admin_url, **options):
        loaded = load_demo_council(password=password)
        organisation = loaded["organisation"]
        self.stdout.write(self.style.SUCCESS(f"Demo council loaded: {organisation}"))
        self.stdout.write("")
        self.stdout.write(f"Sign in at {admin_url} as any of:")
        width = max(len(username) for username, _ in loaded["logins"])
        for username, roles in loaded["logins"]:
            self.stdout.write(f"  {username.ljust(width)}  password {password}   ({roles})")
        self.stdout.write("")
