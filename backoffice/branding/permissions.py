"""Who may change which site's branding.

Wagtail's site settings are per site, and its permission is either for every
site (the global ``change`` permission) or for sites a group is given one by
one. Councils add a third way: ``change_own_council_branding`` lets a council's
finance administrators change the branding of the sites whose home page
belongs to a council they are staff of, and of no other.
"""

from django.db.models import Q
from wagtail.models import Site
from wagtail.permission_policies.sites import SitePermissionPolicy

from backoffice.tenancy.selectors import organisations_for_user

OWN_COUNCIL_PERMISSION = "branding.change_own_council_branding"


class CouncilSitePermissionPolicy(SitePermissionPolicy):
    def _own_council_site_ids(self, user, actions) -> list[int]:
        if "change" not in actions or not (user.is_authenticated and user.is_active):
            return []
        if not user.has_perm(OWN_COUNCIL_PERMISSION):
            return []
        # Asked on every admin page (the Settings menu): worked out once per request's user.
        cached = getattr(user, "_own_council_branding_site_ids", None)
        if cached is None:
            from .selectors import site_ids_for_organisations

            cached = site_ids_for_organisations(
                organisations_for_user(user).values_list("pk", flat=True)
            )
            user._own_council_branding_site_ids = cached
        return cached

    def user_has_any_permission(self, user, actions):
        if super().user_has_any_permission(user, actions):
            return True
        return bool(self._own_council_site_ids(user, actions))

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if super().user_has_any_permission_for_instance(user, actions, instance):
            return True
        site_id = instance.pk if isinstance(instance, Site) else instance.site_id
        return site_id in self._own_council_site_ids(user, actions)

    def sites_user_has_any_permission_for(self, user, actions):
        by_wagtail = super().sites_user_has_any_permission_for(user, actions)
        own = self._own_council_site_ids(user, actions)
        if not own:
            return by_wagtail
        return Site.objects.filter(Q(pk__in=by_wagtail.values("pk")) | Q(pk__in=own)).distinct()
