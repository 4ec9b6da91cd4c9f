"""The brands that play through the API, and their bearer tokens: defined here, imported
into contests.models with the other models."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ApiClient(models.Model):
    """A brand that plays through the API with its own tokens, in the contests it is enabled for.

    A contest that no client is enabled for is public; once one is, only its clients play.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive client's tokens are refused.")
    )
    contests = models.ManyToManyField(
        "contests.Contest", related_name="api_clients", blank=True, verbose_name=_("contests")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Enabling it for a contest, or no longer, is an AuditEvent of that contest
    # (contests/signals.py): simple-history's m2m tracking fails on contest.api_clients.
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A client's bearer token, kept only as its SHA-256 digest: shown once, when made."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("client")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters, to tell tokens apart without revealing them.
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    # Issued ("+") and revoked ("~" setting revoked_at); its uses are not history.
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["client", "-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
