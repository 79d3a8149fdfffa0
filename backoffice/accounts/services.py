"""Writes about staff accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from backoffice.tenancy.services import membership_add

from .roles import ROLES_BY_NAME


class UnknownRole(ValueError):
    pass


@transaction.atomic
def staff_user_save(
    *,
    username: str,
    organisation,
    roles: list[str],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
):
    """Create or update a member of staff of ``organisation`` holding exactly ``roles``.

    With ``password=None`` the account can only sign in through single sign-on.
    """
    unknown = sorted(set(roles) - set(ROLES_BY_NAME))
    if unknown:
        raise UnknownRole(
            f"Unknown role {', '.join(unknown)}; roles are {', '.join(ROLES_BY_NAME)}."
        )
    user, _ = get_user_model().objects.update_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "is_active": True,
        },
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    role_groups = Group.objects.filter(name__in=ROLES_BY_NAME)
    user.groups.remove(*role_groups.exclude(name__in=roles))
    user.groups.add(*role_groups.filter(name__in=roles))
    membership_add(user=user, organisation=organisation)
    return user
