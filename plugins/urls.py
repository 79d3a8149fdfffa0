"""Addresses the outside world calls: provider callbacks, the payer's return, IVR endpoints,
and whatever pages plugins serve themselves (``ims_urlpatterns``)."""

from django.urls import include, path

from . import manager, telephone, views

app_name = "plugins"


def _plugin_urlpatterns():
    patterns = []
    for name, _plugin in manager.plugin_manager().list_name_plugin():
        found = manager.call(name, "ims_urlpatterns")
        if found:
            patterns.append(path(f"plugins/{name}/", include((found, name))))
    return patterns


urlpatterns = [
    path("pay/return/<str:token>/", views.payment_return, name="payment_return"),
    path(
        "integrations/<uuid:public_id>/callback/",
        views.provider_callback,
        name="provider_callback",
    ),
    path(
        "integrations/<uuid:public_id>/telephone/check/",
        telephone.check,
        name="telephone_check",
    ),
    path(
        "integrations/<uuid:public_id>/telephone/payments/",
        telephone.outcome,
        name="telephone_outcome",
    ),
    *_plugin_urlpatterns(),
]
