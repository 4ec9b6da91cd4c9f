"""Rules the database itself enforces, whatever code or console sends the UPDATE.

A played contest's rules cannot be rewritten: once it has a plan, its code and time zone
cannot change, its start cannot move past a planned day and its end cannot move before
one. Contest.clean() says the same to forms, the admin and commands, field by field;
this trigger refuses a raw UPDATE too (IntegrityError).

Installed by migration 0006 and again after every migrate (a post_migrate receiver):
SQLite drops a table's triggers when a later migration rebuilds the table.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

# Inside SQL string literals: no quote characters.
MESSAGE = (
    "once played, the code and time zone cannot change, the start cannot move past "
    "a planned day and the end cannot move before one"
)

# MESSAGE is a constant of this module: nothing from outside reaches these statements.
POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION contests_contest_played_rules() RETURNS trigger AS $$
    DECLARE
        first_day date;
        last_day date;
    BEGIN
        SELECT min(plan.day), max(plan.day) INTO first_day, last_day
          FROM contests_dayplan plan JOIN contests_prize prize ON prize.id = plan.prize_id
         WHERE prize.contest_id = OLD.id;
        IF first_day IS NOT NULL AND (
            NEW.code <> OLD.code OR NEW.time_zone <> OLD.time_zone
            OR NEW.start > first_day OR NEW."end" < last_day
        ) THEN
            RAISE EXCEPTION 'contest %: {MESSAGE} (planned % to %)', OLD.code, first_day, last_day
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,  # noqa: S608
    "DROP TRIGGER IF EXISTS contests_contest_played_rules ON contests_contest",
    """
    CREATE TRIGGER contests_contest_played_rules BEFORE UPDATE ON contests_contest
    FOR EACH ROW EXECUTE FUNCTION contests_contest_played_rules()
    """,
]

SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS contests_contest_played_rules
    BEFORE UPDATE ON contests_contest FOR EACH ROW
    WHEN EXISTS (
        SELECT 1 FROM contests_dayplan plan JOIN contests_prize prize ON prize.id = plan.prize_id
         WHERE prize.contest_id = OLD.id AND (
            NEW.code <> OLD.code OR NEW.time_zone <> OLD.time_zone
            OR NEW.start > plan.day OR NEW."end" < plan.day
         )
    )
    BEGIN
        SELECT RAISE(ABORT, 'contest: {MESSAGE}');
    END
    """,  # noqa: S608
]

REMOVE = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS contests_contest_played_rules ON contests_contest",
        "DROP FUNCTION IF EXISTS contests_contest_played_rules()",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS contests_contest_played_rules"],
}


def install(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in REMOVE.get(connection.vendor, []):
            cursor.execute(statement)


def reinstall_after_migrate(sender, using: str, plan=None, **kwargs) -> None:
    """post_migrate: put the guards back wherever a migration may have dropped them."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    applied = MigrationRecorder(connection).applied_migrations()
    if ("contests", "0006_security_history_and_plan_documents") in applied:
        install(connection)
