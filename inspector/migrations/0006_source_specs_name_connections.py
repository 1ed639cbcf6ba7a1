"""Source specs name an operator-declared connection instead of holding URLs and secrets.

``{"engine": "bundled"}`` (or no URL) becomes ``{"connection": "inventory"}``.
A spec that carried a URL, file or password reference becomes a connection
named after the asset: runs then fail with "connection `<name>` unavailable"
until the operator declares it in OPS_SOURCES, rather than keep reaching
whatever the spec pointed at.
"""

import re

from django.db import migrations

_NAME = re.compile(r"[^a-z0-9_]")


def _connection_for(asset_name, spec):
    if not isinstance(spec, dict) or "connection" in spec:
        return None
    if spec.get("engine", "bundled") == "bundled" or not spec.get("url"):
        return "inventory"
    name = _NAME.sub("_", asset_name.lower()).strip("_") or "source"
    return name if name[0].isalpha() else f"c_{name}"[:64]


def forwards(apps, schema_editor):
    AssetVersion = apps.get_model("inspector", "AssetVersion")
    for version in AssetVersion.objects.filter(asset__asset_type="source").select_related("asset"):
        connection = _connection_for(version.asset.name, version.spec)
        if connection is not None:
            version.spec = {"connection": connection[:64], "description": ""}
            version.save(update_fields=["spec"])


class Migration(migrations.Migration):
    dependencies = [("inspector", "0005_usage_rollups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
