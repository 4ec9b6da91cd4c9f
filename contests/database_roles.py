"""The PostgreSQL role the running portal connects as, and exactly what it may do.

Migrations run as the database's owner (DATABASE_MIGRATE_URL); the portal runs as a
role of its own (DATABASE_URL) that cannot rewrite the record: it cannot change or
delete plans, cannot delete wins or reviews, cannot change a moment except to mark it
claimed, and can only add to the history and the audit events. `manage.py
grant_app_role`, run by deploy/entrypoint*.sh as the owner after every migrate, creates
the role if it is missing and grants it what GRANTS below says, nothing more.

Every model's table must be named here (tests/test_database_roles.py checks): a table
that is not gets no grant at all, and the portal fails on it loudly.
"""

from dataclasses import dataclass

from django.apps import apps

READ = ("SELECT",)
APPEND = ("SELECT", "INSERT")
APPEND_REMOVE = ("SELECT", "INSERT", "DELETE")
ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Grant:
    privileges: tuple[str, ...]
    # UPDATE of these columns only (a column-level grant), for tables the record lives in.
    update_columns: tuple[str, ...] = ()


def _history(label: str) -> str:
    return apps.get_model(label).history.model._meta.label


# By model label. The record: plans, moments, wins, reviews, the history, audit events,
# published plan documents.
RULES: dict[str, Grant] = {
    "contests.Contest": Grant(ALL),
    "contests.Prize": Grant(ALL),
    "contests.DayPlan": Grant(APPEND),
    # A claim marks its moment claimed, and nothing else.
    "contests.WinningMoment": Grant(APPEND, update_columns=("claimed",)),
    # A review records its verdict on the win; purge_player_data blanks old player ids.
    "contests.Win": Grant(APPEND, update_columns=("review_status", "player")),
    "contests.WinReview": Grant(APPEND),
    "contests.PlayCount": Grant(APPEND, update_columns=("plays",)),
    "contests.ApiClient": Grant(ALL),
    # Revoked, and used (written at most once a minute); deleted with their client.
    "contests.ApiToken": Grant(
        ("SELECT", "INSERT", "DELETE"), update_columns=("revoked_at", "last_used_at")
    ),
    "contests.AuditEvent": Grant(APPEND),
    # The play path's change counter moves; its one row is never removed.
    "contests.PlayStateVersion": Grant(APPEND, update_columns=("value",)),
    # A play's first answer, kept for its retries; dropped once 24 hours old.
    "contests.IdempotentAnswer": Grant(APPEND_REMOVE),
    "contests.PlanDocument": Grant(APPEND),
    "contests.PlanDocumentPart": Grant(APPEND),
    # The closing (contests/recovery_records.py): the register is added to in batches and
    # dropped by purge_player_data once the contest is closed; the draw's records are
    # evidence: a draw changes once, from frozen to drawn.
    "contests.Promoter": Grant(("SELECT", "INSERT", "UPDATE")),
    "contests.Participant": Grant(APPEND_REMOVE, update_columns=("plays",)),
    "contests.RecoveryDraw": Grant(APPEND, update_columns=("state", "drawn_at", "drawn_by")),
    "contests.RecoveryPrize": Grant(APPEND),
    "contests.RecoveryExclusion": Grant(APPEND),
    "contests.RecoveryPick": Grant(APPEND),
    "contests.RecoveryReplacement": Grant(APPEND),
    # Trusted timestamps: what must be stamped, and the TSA's tokens.
    "contests.TimestampRequest": Grant(APPEND),
    "contests.Timestamp": Grant(APPEND),
    # A code is given to a win once, and redeemed once (contests/voucher_records.py).
    "contests.Voucher": Grant(APPEND, update_columns=("win_id", "redeemed_at", "redeemed_via")),
    "contests.WebhookEndpoint": Grant(ALL),
    # The outbox (contests/webhook_records.py): events and attempts are the record of what
    # was sent; a delivery moves from pending to delivered or dead.
    # purge_player_data blanks the player ids in the bodies too.
    "contests.WebhookEvent": Grant(APPEND, update_columns=("fanned_out", "body")),
    "contests.WebhookDelivery": Grant(
        APPEND,
        update_columns=(
            "status",
            "attempts",
            "next_attempt_at",
            "retry_until",
            "last_status_code",
            "delivered_at",
        ),
    ),
    "contests.WebhookAttempt": Grant(APPEND),
    # Django's own.
    "auth.User": Grant(ALL),
    "auth.Group": Grant(ALL),
    "auth.Permission": Grant(READ),
    "contenttypes.ContentType": Grant(READ),
    "admin.LogEntry": Grant(APPEND),
    "sessions.Session": Grant(ALL),
    # django-axes: attempts are counted up and cleared; the sign-in log gets logout times.
    "axes.AccessAttempt": Grant(ALL),
    "axes.AccessAttemptExpiration": Grant(ALL),
    "axes.AccessLog": Grant(APPEND, update_columns=("logout_time",)),
    "axes.AccessFailureLog": Grant(APPEND_REMOVE),
    # django-otp: a device's throttling and last used step change at every code.
    "otp_totp.TOTPDevice": Grant(ALL),
}
HISTORY_OF = ["contests.Contest", "contests.Prize", "contests.ApiClient", "contests.ApiToken"]
HISTORY_OF += ["contests.WinReview"]
# Many-to-many tables Django makes: (model label, field name).
THROUGH = {
    ("contests.ApiClient", "contests"): Grant(APPEND_REMOVE),
    ("auth.User", "groups"): Grant(APPEND_REMOVE),
    ("auth.User", "user_permissions"): Grant(APPEND_REMOVE),
    ("auth.Group", "permissions"): Grant(APPEND_REMOVE),
}
# Tables no model describes.
TABLES = {"django_migrations": Grant(READ)}


def table_grants() -> dict[str, Grant]:
    """Every table the portal may touch, with what it may do there."""
    grants = {
        apps.get_model(label)._meta.db_table: grant for label, grant in RULES.items()
    } | TABLES
    for label in HISTORY_OF:
        grants[apps.get_model(_history(label))._meta.db_table] = Grant(APPEND)
    for (label, field), grant in THROUGH.items():
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        grants[through._meta.db_table] = grant
    return grants


def _identifier(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def grant_statements(connection, role: str, tables: set[str]) -> list[str]:
    """The statements that give `role` exactly its grants on the tables that exist."""
    quoted = _identifier(connection, role)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        # The portal creates nothing: only migrations, as the owner, do.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]
    for table, grant in sorted(table_grants().items()):
        if table not in tables:
            continue
        name = _identifier(connection, table)
        statements.append(f"GRANT {', '.join(grant.privileges)} ON {name} TO {quoted}")
        if grant.update_columns:
            columns = ", ".join(_identifier(connection, c) for c in grant.update_columns)
            statements.append(f"GRANT UPDATE ({columns}) ON {name} TO {quoted}")
    return statements
