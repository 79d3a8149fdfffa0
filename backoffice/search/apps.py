from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "backoffice.search"
    label = "search"
    verbose_name = "Transaction search"
    default_auto_field = "django.db.models.BigAutoField"
