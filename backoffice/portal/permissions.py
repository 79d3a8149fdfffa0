"""Page permissions that stop at a member of staff's own councils' sites.

A role is one group for every council, so the finance administrators' page
permissions are granted on every council's payments home
(``services.payments_home_grant_editors``). Granted as they are, they would
let one council's finance administrators unpublish, preview or read the drafts
and history of another council's pages: the page explorer's hooks guard only
the screens Wagtail gives hooks to. This policy leaves out, for each member of
staff, the grants on the sites of councils they are not staff of, so every
page screen and check of Wagtail's treats another council's site as one they
have no rights on. Superusers, the deployment's operators, keep every site.
"""

from functools import reduce
from operator import or_

from django.db.models import Q
from wagtail.permission_policies.pages import PagePermissionPolicy

from backoffice.tenancy.selectors import organisations_for_user


class CouncilPagePermissionPolicy(PagePermissionPolicy):
    def get_all_permissions_for_user(self, user):
        permissions = super().get_all_permissions_for_user(user)
        if not user.is_active or user.is_anonymous or user.is_superuser:
            return permissions
        from .models import PaymentsHomePage

        other_sites = PaymentsHomePage.objects.exclude(
            organisation__in=organisations_for_user(user)
        ).values_list("path", flat=True)
        if not other_sites:
            return permissions
        return permissions.exclude(
            reduce(or_, (Q(page__path__startswith=path) for path in other_sites))
        )
