from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from .health import healthz
from .tenancy import views as tenancy_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Ahead of Wagtail's own, which would list every council's changes.
    path("admin/reports/site-history/", tenancy_views.site_history),
    path("admin/reports/site-history/results/", tenancy_views.site_history_results),
    path("admin/council/", tenancy_views.council_settings, name="tenancy_council_settings"),
    path("admin/", include(wagtailadmin_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    path("", include("plugins.urls")),
    path("", include(wagtail_urls)),
]
