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


COUNCIL_SETTINGS_FIELDS = (
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "vat_registration_number",
    "email",
    "telephone",
    "website",
    "receipt_prefix",
    "journal_approval_threshold_pence",
)


@transaction.atomic
def council_settings_save(*, organisation: Organisation, user, **fields) -> Organisation:
    """A council's own staff change its details, receipt prefix and journal limit.

    Its name and code, and whether it is active, stay with the system administrators.
    """
    from wagtail.log_actions import log

    unknown = set(fields) - set(COUNCIL_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not a council setting: {', '.join(sorted(unknown))}.")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    log(instance=organisation, action="wagtail.edit", user=user, content_changed=True)
    return organisation
