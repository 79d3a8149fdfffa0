from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "backoffice.banking"
    label = "banking"
    verbose_name = "Banking"
