"""Create the default replan policy with the documented per-trigger rules.

The rules are written out here (not imported) so this migration stays the same
whatever later code does.
"""

from django.db import migrations

TRIGGERS = ["error", "tool_error_fatal", "timeout", "empty_result", "policy_violation", "low_evidence",
            "slot_missing", "present_limit", "manual", "unknown"]

RULES = {
    "empty_result": {"decision": "auto_retry", "scope": "execute",
                     "patch": {"multiply": {"params.days": 4}, "cap": {"params.days": 30},
                               "remove": ["params.environment"]},
                     "guidance": "widened the time range and dropped the environment filter"},
    "error": {"decision": "auto_retry", "scope": "execute", "guidance": "retried the step after an error"},
    "timeout": {"decision": "auto_retry", "scope": "execute", "patch": {"multiply": {"params.limit": 0.5}},
                "guidance": "halved the row limit so the query finishes in time"},
    "tool_error_fatal": {"decision": "stop_with_guidance", "scope": "execute",
                         "guidance": "the query asset failed in a way a retry cannot fix; check the asset"},
    "policy_violation": {"decision": "stop_with_guidance", "scope": "validate",
                         "guidance": "the plan breaks the policy; narrow the question (fewer rows or a shorter time range)"},
    "slot_missing": {"decision": "ask_user", "scope": "route_plan",
                     "guidance": "name the system you mean, e.g. checkout-api"},
    "low_evidence": {"decision": "ask_user", "scope": "route_plan",
                     "guidance": "the answer has little evidence; ask a more specific question"},
    "present_limit": {"decision": "auto_retry", "scope": "present",
                      "patch": {"set": {"limits.max_blocks": 2, "limits.max_rows_per_block": 10}},
                      "guidance": "showed fewer blocks and rows"},
    "manual": {"decision": "auto_retry", "scope": "route_plan", "guidance": "planned again on request"},
    "unknown": {"decision": "stop_with_guidance", "scope": "execute",
                "guidance": "the failure was not recognised; read the trace and rerun by hand"},
}


def create_default(apps, schema_editor):
    ReplanPolicy = apps.get_model("controlloop", "ReplanPolicy")
    ReplanPolicy.objects.get_or_create(
        is_default=True,
        defaults={"name": "default", "max_replans": 2, "allowed_triggers": TRIGGERS, "min_severity": "low",
                  "min_interval_seconds": 0, "cooling_period_seconds": 0, "rules": RULES},
    )


def remove_default(apps, schema_editor):
    apps.get_model("controlloop", "ReplanPolicy").objects.filter(is_default=True, name="default").delete()


class Migration(migrations.Migration):
    dependencies = [("controlloop", "0001_initial")]
    operations = [migrations.RunPython(create_default, remove_default)]
