from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "backoffice.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        # Permissions exist only once migrate has created them, app by app, so
        # roles are brought into step after the last app's permissions exist
        # (and so for the test database too), not in a migration.
        post_migrate.connect(_sync_roles_after_migrate)
        # A mistyped OIDC_ROLE_GROUPS stops the system starting, rather than quietly
        # letting nobody (or the wrong people) in at the first sign-in.
        from .oidc import check_configuration

        check_configuration()


def _sync_roles_after_migrate(sender, using="default", **kwargs):
    from .roles import sync_roles

    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender is with_models[-1]:
        sync_roles(using=using)
