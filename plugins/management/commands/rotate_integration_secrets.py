"""Re-encrypt every integration's secrets with the newest SECRETS_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from plugins.encryption import SecretsUnreadable
from plugins.services import integration_rotate_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt every council's integration secrets with the first key in "
        "SECRETS_ENCRYPTION_KEYS, so that older keys can then be removed (docs/plugins.md)."
    )

    def handle(self, *args, **options):
        try:
            count = integration_rotate_secrets()
        except SecretsUnreadable as error:
            # Integrations already rotated stay rotated: each is saved on its own.
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the secrets of {count} integration(s).")
        )
