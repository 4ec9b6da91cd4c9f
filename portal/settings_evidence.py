"""Settings of the evidence (issue 18; docs/auditing.md): trusted timestamps and the perizia
data sheet. Read by portal/settings.py, last, with `from portal.settings_evidence import *`:
what is imported from portal.settings below is already defined by then."""

from portal.settings import BASE_DIR, JOB_SCHEDULE, env

# Any RFC 3161 time-stamping authority; unset: nothing is timestamped.
TSA_URL = env("TSA_URL", default="")
# The CA (or CAs) the TSA's certificate must chain to: a PEM file's path, or PEM text.
TSA_CA_CERTIFICATE = env("TSA_CA_CERTIFICATE", default="")
TSA_TIMEOUT_SECONDS = env.float("TSA_TIMEOUT_SECONDS", default=10.0)
# For the perizia: where the server runs and what its clock follows (as the operator says).
PERIZIA_SERVER_LOCATION = env("PERIZIA_SERVER_LOCATION", default="")
PERIZIA_TIME_SYNC = env("PERIZIA_TIME_SYNC", default="")
# The SHA-256 of the source files, written at build time by Dockerfile.prod.
PORTAL_SOURCE_DIGEST_FILE = env(
    "PORTAL_SOURCE_DIGEST_FILE", default=str(BASE_DIR / "SOURCE_SHA256")
)

# The job (contests/jobs.py) that stamps what is pending, every minute: one more entry
# of portal/settings.py's schedule.
JOB_SCHEDULE["stamp_timestamps"] = "* * * * *"

__all__ = [
    "PERIZIA_SERVER_LOCATION",
    "PERIZIA_TIME_SYNC",
    "PORTAL_SOURCE_DIGEST_FILE",
    "TSA_CA_CERTIFICATE",
    "TSA_TIMEOUT_SECONDS",
    "TSA_URL",
]
