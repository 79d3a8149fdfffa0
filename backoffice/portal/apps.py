from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "backoffice.portal"
    label = "portal"
    verbose_name = "Public payment pages"
    default_auto_field = "django.db.models.BigAutoField"
