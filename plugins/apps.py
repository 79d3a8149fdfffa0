from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "plugins"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks

        from . import checks as plugin_checks

        checks.register(plugin_checks.check_encryption_keys_set, checks.Tags.security, deploy=True)
        checks.register(plugin_checks.check_encryption_keys_valid, checks.Tags.security)
