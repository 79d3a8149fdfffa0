from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "backoffice.counter"
    label = "counter"
    verbose_name = "Counter and cash returns"
