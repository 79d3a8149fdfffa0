"""The staff audit log: who did what, when, and from where, kept for good.

An event is written once and never changed or removed: the ORM refuses
updates and deletes here, and on PostgreSQL a trigger refuses them for anyone,
raw SQL included (migration 0002). docs/audit.md says what is recorded.
"""

from django.conf import settings
from django.db import models


class AuditLogIsAppendOnly(Exception):
    """Audit events are evidence: they are never changed or deleted."""


def _refusal(model) -> AuditLogIsAppendOnly:
    return AuditLogIsAppendOnly(
        f"{model.__name__} rows are append-only: the audit log is evidence."
    )


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise _refusal(self.model)

    def delete(self):
        raise _refusal(self.model)

    # Django's bulk_update and update_or_create reach update() above.

    def for_organisation(self, organisation):
        """One council's events; None (no council) sees none."""
        if organisation is None:
            return self.none()
        return self.filter(organisation=organisation)


class AuditAction(models.TextChoices):
    VIEW = "view", "View"
    SEARCH = "search", "Search"
    EXPORT = "export", "Export"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"
    REFUND = "refund", "Refund"
    JOURNAL = "journal", "Journal"
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    RECEIPT = "receipt", "Receipt"
    SIGN_IN = "sign_in", "Sign in"
    SIGN_OUT = "sign_out", "Sign out"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    API_KEY = "api_key", "API key"
    OTHER = "other", "Other"


class AuditEvent(models.Model):
    """One thing a member of staff did (or tried to do) in the back office."""

    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The council acted for; empty for system-wide staff and unknown usernames.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Copied, so that the event still says who it was if the account is renamed;
    # for a failed sign-in, the username that was tried.
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(
        max_length=100, blank=True, help_text="The model's label, e.g. payments.payment."
    )
    object_id = models.CharField(max_length=64, blank=True)
    description = models.CharField("what", max_length=255, blank=True)
    path = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=10, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    query = models.JSONField(
        default=dict,
        blank=True,
        help_text="The search terms of a search or export, secrets left out.",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "at"], name="audit_event_council_at"),
            models.Index(fields=["organisation", "user", "at"], name="audit_event_council_user_at"),
            models.Index(
                fields=["organisation", "object_type", "object_id"],
                name="audit_event_council_object",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="audit_event_known_action"
            ),
        ]

    def __str__(self) -> str:
        who = self.username or "anonymous"
        what = f" {self.description}" if self.description else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.get_action_display().lower()}{what}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise _refusal(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _refusal(type(self))

    @property
    def search_terms(self) -> str:
        """The stored query as one readable line: ``q=smith; status=success``."""
        return "; ".join(
            f"{name}={value}" for name, values in self.query.items() for value in values
        )
