"""Changes that can take away or change what a token may do: each one draws a new auth generation."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authtoken.models import Token

from access.models import TenantMembership
from access.token_cache import new_generation


def _changed(sender, **kwargs) -> None:
    new_generation()


def _user_saved(sender, update_fields=None, **kwargs) -> None:
    # A login writes last_login only; that changes nothing a token may do.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    new_generation()


def _m2m_changed(sender, action, **kwargs) -> None:
    if action.startswith("post_"):
        new_generation()


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="access.auth_generation.user_saved")
    for model in (user_model, Token, Group, Permission, TenantMembership):
        post_delete.connect(_changed, sender=model, dispatch_uid=f"access.auth_generation.{model.__name__}_deleted")
    for model in (Token, Group, Permission, TenantMembership):
        post_save.connect(_changed, sender=model, dispatch_uid=f"access.auth_generation.{model.__name__}_saved")
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"access.auth_generation.{through.__name__}")
