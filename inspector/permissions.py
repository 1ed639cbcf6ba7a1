"""API permissions: nothing is readable anonymously, reads need ``view_*``."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with ``view`` required for safe methods.

    A view may name extra permissions per action in ``action_permissions``
    (e.g. ``{"publish": ["inspector.publish_assetversion"]}``); those replace
    the model's defaults for that action.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def _queryset(self, view):
        # Only the model matters for permission codenames; the class-level
        # queryset says it without running get_queryset() (which builds
        # FilterSets and cost ~3 ms per request on ingest).
        queryset = getattr(view, "queryset", None)
        return queryset if queryset is not None else super()._queryset(view)

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        per_action = getattr(view, "action_permissions", {})
        key = (getattr(view, "action", None) or "", request.method)
        for candidate in (key, key[0]):
            if candidate in per_action:
                return user.has_perms(per_action[candidate])
        return super().has_permission(request, view)
