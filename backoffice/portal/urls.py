"""The payer's addresses outside the Wagtail pages: keyed by a payment's return token."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("pay/retry/<str:token>/", views.retry, name="retry"),
    path("pay/receipt/<str:token>/", views.receipt_download, name="receipt_pdf"),
]
