from django.apps import AppConfig


class SuspenseConfig(AppConfig):
    name = "backoffice.suspense"
    label = "suspense"
    verbose_name = "Suspense"
