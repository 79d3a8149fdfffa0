from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "backoffice.ledger"
    label = "ledger"
    verbose_name = "Ledger"
