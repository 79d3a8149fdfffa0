import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from backoffice.tenancy.models import TenantModel, TenantQuerySet

from . import encryption


class IntegrationQuerySet(TenantQuerySet):
    def enabled(self):
        return self.filter(is_enabled=True)


class Integration(TenantModel):
    """One council's use of a plugin: which plugin, its settings and secrets, whether it is on.

    A council may use the same plugin more than once (a GOV.UK Pay account
    per service, say), each with its own ``key``. A payment records the key
    of the integration that took it as its ``provider``, and its money sits
    in that key's clearing account until the provider pays out; so the key
    never changes once made.
    """

    plugin = models.CharField(max_length=100, help_text="The installed plugin's name.")
    key = models.SlugField(
        max_length=50,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9_-]*$",
                "Use lower-case letters, digits, hyphens and underscores.",
            )
        ],
        help_text="This council's name for this use of the plugin, e.g. govuk-pay-parking. "
        "Payments record it; it cannot be changed later.",
    )
    title = models.CharField(max_length=200)
    is_enabled = models.BooleanField("enabled", default=False)
    settings = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    secret_names = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Which secrets are set (not their values).",
    )
    api_key_hash = models.CharField(max_length=128, blank=True, editable=False)
    api_key_hint = models.CharField(
        max_length=12, blank=True, editable=False, help_text="The first characters of the API key."
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IntegrationQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="plugins_integration_unique_key"
            ),
            models.CheckConstraint(condition=~Q(key=""), name="plugins_integration_key_not_blank"),
        ]
        permissions = [("manage_integrations", "Can configure the council's integrations")]

    def __str__(self) -> str:
        return self.title

    @property
    def secrets(self) -> dict[str, str]:
        return encryption.decrypt(self.secrets_encrypted)

    @property
    def config(self) -> dict:
        """Settings and decrypted secrets together: what the plugin reads."""
        return {**self.settings, **self.secrets}


class ProviderEvent(TenantModel):
    """A provider's callback event, applied once however often the provider sends it."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "event_id"], name="plugins_providerevent_unique_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} {self.event_id}"


class ExportRun(TenantModel):
    """One writing of a departmental integration's files for one day.

    A day is written once (attempt 1); a re-run asked for on purpose is
    attempt 2, 3 and so on, pointing at the first. ``files`` lists what was
    written: name, SHA-256 of the bytes, data rows and size.
    """

    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="export_runs"
    )
    day = models.DateField(help_text="The day whose payments the files hold.")
    attempt = models.PositiveSmallIntegerField(default=1)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reruns"
    )
    folder = models.CharField(max_length=500, help_text="Where the files were written.")
    files = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-attempt"]
        constraints = [
            # Two runs for one day can only exist as numbered attempts: a second
            # first run, racing the first, fails here instead of writing again.
            models.UniqueConstraint(
                fields=["organisation", "integration", "day", "attempt"],
                name="plugins_exportrun_unique_attempt",
            ),
            models.CheckConstraint(
                condition=Q(attempt=1, rerun_of__isnull=True)
                | Q(attempt__gt=1, rerun_of__isnull=False),
                name="plugins_exportrun_rerun_has_first_run",
            ),
        ]

    def __str__(self) -> str:
        attempt = f" (re-run {self.attempt})" if self.attempt > 1 else ""
        return f"{self.integration} files for {self.day:%d %B %Y}{attempt}"
