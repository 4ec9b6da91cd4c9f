"""API clients' bearer tokens: made here, shown once, stored only as a SHA-256 digest.

Tokens are 256 random bits, so a plain SHA-256 is enough to keep them: nobody can guess
one from its digest, and lookups stay one indexed equality.
"""

import hashlib
import secrets

from ..models import ApiClient, ApiToken

TOKEN_PREFIX = "cpt_"  # noqa: S105 (marks our tokens, e.g. for secret scanners)


class Credentials:
    """What the Authorization header of a request says."""

    NONE = "none"  # no header: an anonymous player
    MALFORMED = "malformed"  # a header we cannot read as "Bearer <token>"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(client: ApiClient) -> tuple[ApiToken, str]:
    """Make a new token for the client; return it with the plain token, shown only now."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        client=client, digest=token_digest(plain), prefix=plain[: len(TOKEN_PREFIX) + 4]
    )
    return token, plain


def bearer_digest(authorization: str | None) -> str:
    """Return the digest of the bearer token in the header, or a Credentials marker."""
    if not authorization:
        return Credentials.NONE
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200 or not token.isascii():
        return Credentials.MALFORMED
    return token_digest(token)
