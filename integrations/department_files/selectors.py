"""Reads of the departmental files plugin: is a reference known, how many per fund."""

from django.db.models import Count

from backoffice.funds.models import FundCode
from backoffice.funds.references import normalise_reference

from .models import KnownReference


def reference_is_known(*, integration, fund: FundCode, reference: str) -> bool:
    """Is ``reference`` on the integration's list for ``fund``? One lookup on the unique index."""
    if fund.reference_rule is not None:
        reference = normalise_reference(reference, fund.reference_rule.spec)
    else:
        reference = (reference or "").strip()
    return KnownReference.objects.filter(
        organisation_id=integration.organisation_id,
        integration=integration,
        fund_code=fund,
        reference=reference,
    ).exists()


def known_reference_counts(integration) -> list[dict]:
    """How many references the integration's list holds per fund code, by code.

    Every fund the integration looks after is listed, with 0 where none are uploaded.
    """
    counted = dict(
        KnownReference.objects.filter(
            organisation_id=integration.organisation_id, integration=integration
        )
        .values_list("fund_code__code")
        .annotate(count=Count("pk"))
        .order_by()
    )
    looked_after = set(integration.settings.get("fund_codes") or [])
    funds = FundCode.objects.for_organisation(integration.organisation).filter(
        code__in=looked_after | set(counted)
    )
    return [
        {
            "code": fund.code,
            "name": fund.name,
            "count": counted.get(fund.code, 0),
            "looked_after": fund.code in looked_after,
        }
        for fund in funds.order_by("code")
    ]
