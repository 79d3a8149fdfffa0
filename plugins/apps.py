from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "plugins"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"
