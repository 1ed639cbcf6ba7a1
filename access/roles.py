"""The named roles (Django groups) and the permissions each grants.

Pure data plus one idempotent installer, used by the data migration and by
tests whose transactional flush removed the migrated groups.
"""

from __future__ import annotations

VIEWER, OPERATOR, ASSET_EDITOR, PUBLISHER, ADMIN = "viewer", "operator", "asset editor", "publisher", "admin"

_READABLE = {
    "inspector": ["trace", "stagerun", "stagepayload", "traceassetusage", "asset", "assetversion"],
    "regression": ["regressionanalysis", "goldenquery", "baseline", "regressionrun", "overridetest", "goldensuite",
                   "suiteitem", "suiterun", "suiteitemresult"],
    "controlloop": ["replanpolicy", "replanevent", "replanledger"],
    "otlp": ["spanstagerule", "bufferedspan"],
}
READ = [f"{app}.view_{model}" for app, models in _READABLE.items() for model in models]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Read traces, assets, analyses, golden queries and the control loop.
    VIEWER: READ,
    # Run the pipeline (also in test mode), ingest traces, start analyses,
    # golden-query and suite runs, keep golden queries and suites (their items),
    # set baselines, ask the control loop to decide.
    OPERATOR: READ + [
        "inspector.add_trace", "inspector.run_pipeline", "inspector.use_test_mode",
        "regression.add_regressionanalysis", "regression.add_regressionrun", "regression.add_overridetest",
        "regression.add_goldenquery", "regression.change_goldenquery", "regression.add_baseline",
        "regression.add_goldensuite", "regression.change_goldensuite", "regression.add_suiteitem",
        "regression.change_suiteitem", "controlloop.add_replanevent",
    ],
    # Create assets and new (draft) versions; keep the tenants' OpenTelemetry span-name rules, which
    # configure how a pipeline's spans become stages as assets configure the pipeline.
    ASSET_EDITOR: READ + ["inspector.add_asset", "inspector.change_asset", "inspector.add_assetversion",
                          "otlp.add_spanstagerule", "otlp.change_spanstagerule", "otlp.delete_spanstagerule"],
    # Publish and roll back versions.
    PUBLISHER: READ + ["inspector.publish_assetversion"],
    # Everything in the product's apps, and memberships of their own tenants.
    # Not user accounts: Django lets whoever may change users make anyone a
    # superuser, so accounts and roles stay with superusers (grant_access).
    ADMIN: ["*inspector", "*regression", "*controlloop", "*access", "*otlp", "auth.view_user", "auth.view_group"],
}


def role_permission_rows(Permission, role: str):
    """The Permission rows of one role (``*app`` means every permission of the app)."""
    from django.db.models import Q

    query = Q(pk__in=[])
    for entry in ROLE_PERMISSIONS[role]:
        if entry.startswith("*"):
            query |= Q(content_type__app_label=entry[1:])
        else:
            app_label, codename = entry.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


def roles_install(Group=None, Permission=None, *, strict: bool = True) -> dict[str, int]:
    """Create or update every role group; returns ``{role: permission count}``.

    Takes the models so the migration can pass its historical ones. Migrations
    are not strict: an earlier one runs before later models (e.g. suites) exist,
    and the migration that adds a role's new permissions installs them.
    """
    if Group is None or Permission is None:
        from django.contrib.auth.models import Group, Permission
    counts = {}
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        permissions = list(role_permission_rows(Permission, role))
        missing = _missing(role, permissions)
        if missing and strict:
            raise LookupError(f"role {role!r} names unknown permissions: {', '.join(missing)}")
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


def _missing(role: str, permissions) -> list[str]:
    found = {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
    return [entry for entry in ROLE_PERMISSIONS[role] if not entry.startswith("*") and entry not in found]


def roles_install_migration(apps, schema_editor) -> None:
    """RunPython body: every migration that changes a role re-applies all of them."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    roles_install(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), strict=False)
