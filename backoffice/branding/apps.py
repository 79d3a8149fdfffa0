from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "backoffice.branding"
    label = "branding"
    verbose_name = "Payment pages branding"
