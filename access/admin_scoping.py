"""Tenant scoping for ModelAdmins: lists, object pages, edits, the tenant field and every choice list.

Objects of other tenants are absent (404 on their pages, as Django's admin
answers for unknown ids); the tenant field offers only the user's tenants.
Choice lists follow the rows: a list filter over a relation, a foreign-key
dropdown or an autocomplete offers only what the related model's own admin
lists for this user (``visible_choices``), so no other tenant's name shows.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import get_fields_from_path, reverse_field_path
from django.db import models
from django.db.models import QuerySet

from access.tenancy import scope_for


def _tenant_of(obj, path: str) -> str:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def visible_choices(admin_site: admin.AdminSite, model: type[models.Model], request) -> QuerySet:
    """The objects of ``model`` that ``request.user`` may pick: those its admin lists for them.

    A tenant-scoped admin gives its tenant filter (without its list
    decorations); any other admin its ``get_queryset``. A model without an
    admin cannot say how it is scoped, so it offers nothing but to superusers.
    """
    manager = model._default_manager
    if request.user.is_superuser:
        return manager.all()
    try:
        model_admin = admin_site.get_model_admin(model)
    except NotRegistered:
        return manager.none()
    if isinstance(model_admin, TenantScopedAdmin):
        return model_admin.tenant_filter(request, manager.all())
    return model_admin.get_queryset(request)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A relation's filter offering only the related objects the user may see."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = visible_choices(model_admin.admin_site, field.related_model, request)
        return field.get_choices(include_blank=False, ordering=ordering,
                                 limit_choices_to=models.Q(pk__in=visible.values("pk")))


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Distinct values of a field across a relation, read from the related objects the user may see.

    Django reads them from every row of the related model (only a field of
    the admin's own model obeys its ``get_queryset``).
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        parent_model, _ = reverse_field_path(model, field_path)
        if parent_model != model:
            visible = visible_choices(model_admin.admin_site, parent_model, request)
            self.lookup_choices = visible.distinct().order_by(field.name).values_list(field.name, flat=True)


def scoped_list_filter(model: type[models.Model], spec):
    """``spec`` (a ``list_filter`` entry) with its choices limited to what the user may see.

    Relations and values across relations get the scoped filters above;
    ``SimpleListFilter`` classes compute their own choices and must scope
    them (as ``inspector.admin.traces.TenantFilter`` does); choices, booleans
    and dates offer fixed values.
    """
    if isinstance(spec, (list, tuple)):
        path, filter_class = spec
        if issubclass(filter_class, admin.RelatedOnlyFieldListFilter):
            return spec  # already limited to the (scoped) rows
        for unscoped, scoped in ((admin.RelatedFieldListFilter, ScopedRelatedFieldListFilter),
                                 (admin.AllValuesFieldListFilter, ScopedAllValuesFieldListFilter)):
            if issubclass(filter_class, unscoped) and not issubclass(filter_class, scoped):
                return path, type(f"Scoped{filter_class.__name__}", (scoped, filter_class), {})
        return spec
    if not isinstance(spec, str):
        return spec
    fields = get_fields_from_path(model, spec)
    field = fields[-1]
    if field.is_relation:
        return spec, ScopedRelatedFieldListFilter
    fixed = field.flatchoices or isinstance(field, (models.BooleanField, models.DateField))
    if len(fields) > 1 and not fixed:
        return spec, ScopedAllValuesFieldListFilter
    return spec


class ScopedChoicesMixin:
    """Foreign-key and many-to-many form fields (dropdowns, autocompletes) offer only visible objects.

    Mix into ModelAdmins and inlines; ``TenantScopedAdmin`` includes it.
    """

    def get_field_queryset(self, db, db_field, request):
        ordered = super().get_field_queryset(db, db_field, request)
        visible = visible_choices(self.admin_site, db_field.remote_field.model, request).using(db)
        return visible if ordered is None else ordered.filter(pk__in=visible.values("pk"))


class TenantScopedAdmin(ScopedChoicesMixin):
    """Mix into a ModelAdmin; ``tenant_field`` may follow relations (``trace__tenant_id``)."""

    tenant_field = "tenant_id"
    # Shared-tenant objects (the ``default`` assets) are readable by every tenant.
    tenant_shared_readable = False
    # Objects with an empty tenant (the default policy) are readable by all, written by superusers.
    tenant_blank_is_shared = False

    def tenant_filter(self, request, queryset: QuerySet) -> QuerySet:
        """``queryset`` limited to the objects of the user's tenants."""
        return scope_for(request.user).filter(queryset, self.tenant_field, shared=self.tenant_shared_readable,
                                              blank_is_shared=self.tenant_blank_is_shared)

    def get_queryset(self, request):
        return self.tenant_filter(request, super().get_queryset(request))

    def get_list_filter(self, request):
        return [scoped_list_filter(self.model, spec) for spec in super().get_list_filter(request)]

    def _may_write(self, request, obj) -> bool:
        return obj is None or scope_for(request.user).allows(_tenant_of(obj, self.tenant_field))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_write(request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        tenants = scope_for(request.user).tenants
        if db_field.name == self.tenant_field and tenants is not None:
            return forms.ChoiceField(choices=[(t, t) for t in sorted(tenants)], label=db_field.verbose_name,
                                     help_text="Only your tenants are offered.")
        return super().formfield_for_dbfield(db_field, request, **kwargs)
