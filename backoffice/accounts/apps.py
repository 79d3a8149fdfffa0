from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "backoffice.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        # Permissions exist only after migrate has run, so roles are kept in
        # step then (and for the test database), not in a migration.
        post_migrate.connect(_sync_roles_after_migrate, sender=self)


def _sync_roles_after_migrate(sender, using="default", **kwargs):
    from .roles import sync_roles

    sync_roles(using=using)
