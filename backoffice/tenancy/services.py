"""Writes about councils and their staff."""

from django.db import transaction

from .models import Membership, Organisation
from .selectors import SESSION_KEY, is_member


@transaction.atomic
def organisation_save(*, code: str, **fields) -> tuple[Organisation, bool]:
    """Create the council with this code, or bring its details up to date.

    Returns the council and whether it was created.
    """
    organisation, created = Organisation.objects.get_or_create(code=code, defaults=fields)
    if not created:
        for name, value in fields.items():
            setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    return organisation, created


def membership_add(*, user, organisation: Organisation) -> Membership:
    """Make ``user`` a member of staff of ``organisation`` (again, if they had left)."""
    membership, _ = Membership.objects.update_or_create(
        user=user, organisation=organisation, defaults={"is_active": True}
    )
    return membership


def organisation_switch(*, request, organisation: Organisation) -> None:
    """Act for another council this session; only one the user belongs to."""
    if not is_member(user=request.user, organisation=organisation):
        raise PermissionError(f"{request.user} is not a member of {organisation}.")
    request.session[SESSION_KEY] = organisation.pk
