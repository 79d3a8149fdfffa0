from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from .accounts import views as accounts_views
from .health import healthz
from .tenancy import views as tenancy_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Ahead of Wagtail's own, which would list every council's changes.
    path("admin/reports/site-history/", tenancy_views.site_history),
    path("admin/reports/site-history/results/", tenancy_views.site_history_results),
    path("admin/council/", tenancy_views.council_settings, name="tenancy_council_settings"),
    # Ahead of Wagtail's own: single sign-on on the login page, and at the provider on sign-out.
    path("admin/login/", accounts_views.StaffLoginView.as_view(), name="wagtailadmin_login"),
    path("admin/logout/", accounts_views.StaffLogoutView.as_view(), name="wagtailadmin_logout"),
    # The provider sends people back to /oidc/callback/ (docs/single-sign-on.md).
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("admin/", include(wagtailadmin_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # The public pages' per-site theme (docs/public-pages-theming.md).
    path("branding/", include("backoffice.branding.urls")),
    path("", include("backoffice.portal.urls")),
    path("", include("plugins.urls")),
    path("", include(wagtail_urls)),
]
