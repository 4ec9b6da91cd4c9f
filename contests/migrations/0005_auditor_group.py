"""The Auditor group: sees contests, plans, wins, reviews and reports; changes nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUDITOR = "Auditor"
VIEWABLE = [
    "contest",
    "prize",
    "dayplan",
    "winningmoment",
    "win",
    "winreview",
    "playcount",
    "apiclient",
]


def create_auditor_group(apps, schema_editor):
    # Permissions are normally made after all migrations; this group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=AUDITOR)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="contests",
            codename__in=[f"view_{model}" for model in VIEWABLE],
        )
    )


def remove_auditor_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=AUDITOR).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contests", "0004_sealed_plans_and_reviews"),
    ]

    operations = [migrations.RunPython(create_auditor_group, remove_auditor_group)]
