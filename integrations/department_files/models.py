"""The references a department says are valid, uploaded as a CSV file by the department."""

from django.db import models

from backoffice.tenancy.models import TenantModel


class KnownReference(TenantModel):
    """One reference the department knows, for one of the fund codes its integration looks after.

    The whole list of an integration is replaced at once by an upload
    (``services.known_references_replace``); rows are never edited one by one.
    """

    integration = models.ForeignKey(
        "plugins.Integration", on_delete=models.CASCADE, related_name="known_references"
    )
    fund_code = models.ForeignKey(
        "funds.FundCode", on_delete=models.CASCADE, related_name="known_references"
    )
    reference = models.CharField(max_length=100)

    class Meta:
        ordering = ["fund_code", "reference"]
        constraints = [
            # One index does all the work: it keeps each reference once per integration
            # and fund, and answers both a payment's lookup and the admin's count per
            # fund. The council comes first, as in every composite index of a tenant
            # table; it changes nothing about uniqueness (an integration has one council).
            models.UniqueConstraint(
                fields=["organisation", "integration", "fund_code", "reference"],
                name="department_files_knownreference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.fund_code.code})"
