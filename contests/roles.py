"""The staff roles, as groups of permissions: who may change what.

- Contest staff run contests, review winners and manage API clients.
- Auditors see contests, plans, wins, reviews, play counts and reports, and change nothing.
Only superusers see winning moments before they pass, whatever their groups.
"""

AUDITOR = "Auditor"
CONTEST_STAFF = "Contest staff"

_EVERYTHING_VIEWABLE = [
    f"view_{model}"
    for model in [
        "contest",
        "prize",
        "dayplan",
        "winningmoment",
        "win",
        "winreview",
        "playcount",
        "apiclient",
        "apitoken",
        # The history (docs/security.md): every version of these, and the audit events.
        "historicalcontest",
        "historicalprize",
        "historicalapiclient",
        "historicalapitoken",
        "historicalwinreview",
        "auditevent",
        # The closing: the promoter, the participant register, the recovery draw.
        "promoter",
        "participant",
        "recoverydraw",
        "recoveryprize",
        "recoveryexclusion",
        "recoverypick",
        "recoveryreplacement",
        # The trusted timestamps (docs/auditing.md).
        "timestamprequest",
        "timestamp",
        # Vouchers show their code only once a win took it; endpoints never their secret.
        "voucher",
        "voucherpool",
        "webhookendpoint",
        "webhookevent",
        "webhookdelivery",
        "webhookattempt",
    ]
]

ROLES: dict[str, list[str]] = {
    AUDITOR: _EVERYTHING_VIEWABLE,
    CONTEST_STAFF: [
        *_EVERYTHING_VIEWABLE,
        "add_contest", "change_contest", "delete_contest",
        "add_prize", "change_prize", "delete_prize",
        "add_winreview",
        "add_apiclient", "change_apiclient",
        "add_apitoken", "change_apitoken",
        "add_promoter", "change_promoter",
        "hold_recovery_draw",
        "add_voucher", "change_voucher", "change_voucherpool",
        "add_webhookendpoint", "change_webhookendpoint", "change_webhookdelivery",
    ],
}  # fmt: skip


def sync_roles(group_model, permission_model) -> None:
    """Make each role's group hold exactly its permissions (models passed in, for migrations)."""
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.filter(
                content_type__app_label="contests", codename__in=codenames
            )
        )
