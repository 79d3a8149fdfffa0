"""Reads about councils and who belongs to them."""

from .models import Membership, Organisation

SESSION_KEY = "tenancy.organisation_id"


def organisations_for_user(user):
    """The councils a member of staff may work in, by name."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        is_active=True, memberships__user=user, memberships__is_active=True
    ).order_by("name")


def organisation_for_request(request) -> Organisation | None:
    """The council a staff request acts for.

    A member of one council works in it; a member of several works in the one
    chosen for this session, or the first by name until they choose. Anybody
    else (anonymous, or a user with no active membership) acts for none, and
    every tenant-owned screen is closed to them.
    """
    if not request.user.is_authenticated:
        return None
    organisations = list(organisations_for_user(request.user))
    if not organisations:
        return None
    chosen = request.session.get(SESSION_KEY)
    for organisation in organisations:
        if organisation.pk == chosen:
            return organisation
    return organisations[0]


def is_member(*, user, organisation: Organisation) -> bool:
    return Membership.objects.active().filter(user=user, organisation=organisation).exists()
