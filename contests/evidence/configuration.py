"""A deploy check of the evidence settings (run by `manage.py check --deploy`, so by the
production entrypoint, which refuses to start on it): a TSA without the CA its tokens must
chain to would stamp what nothing can verify, and verify_plans would fail every night."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from . import timestamps


@register(Tags.security, deploy=True)
def check_timestamping(app_configs, **kwargs) -> list[Error]:
    if not settings.TSA_URL:
        return []
    try:
        timestamps.trusted_roots()
    except timestamps.TimestampInvalid as exc:
        return [
            Error(
                f"TSA_URL is set but its CA certificate is not usable: {exc}",
                hint="Set TSA_CA_CERTIFICATE to the TSA's CA certificate, a PEM file's path "
                "or its PEM text (docs/auditing.md).",
                id="contests.E101",
            )
        ]
    return []
