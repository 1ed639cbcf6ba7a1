"""Admin for assets and their versions. Versions are never edited: new drafts, publishing, rollback and
deletion go through ``inspector.services.assets``, which validates, refuses and writes all or nothing.

The pages follow Django's ``UserAdmin`` password page: ``get_urls`` + ``admin_view``, the object from
``get_object``, a ``has_*_permission`` check raising ``PermissionDenied``, ``log_addition``/``log_change``,
``each_context`` and a ``TemplateResponse``.
"""

from __future__ import annotations

import json

import pydantic
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from access.admin_scoping import ScopedChoicesMixin, TenantScopedAdmin
from access.tenancy import scope_for
from inspector import selectors, services
from inspector.admin.display import WordedChoicesFilter, moment, pill, titled, truncated, words
from inspector.admin.json_editor import JSONEditor, PrettyJSONField
from inspector.api_errors import pydantic_field_errors
from inspector.asset_contracts import VersionCreate, VersionNumber
from inspector.asset_specs import spec_json_schema, validate_spec
from inspector.models import Asset, AssetVersion
from kernel.errors import ServiceError

ADD_VERSION = "inspector.add_assetversion"
PUBLISH = "inspector.publish_assetversion"


def _version_url(version: AssetVersion) -> str:
    return reverse("admin:inspector_assetversion_change", args=[version.pk])


def _draft_url(asset: Asset, source: AssetVersion | None = None) -> str:
    url = reverse("admin:inspector_assetversion_new_draft", args=[asset.pk])
    return f"{url}?from={source.version}" if source else url


class AssetVersionInline(ScopedChoicesMixin, admin.TabularInline):
    model = AssetVersion
    extra = 0
    can_delete = False
    fields = ["version_link", "status_pill", "note_text", "author", "created", "published"]
    readonly_fields = fields
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="version")
    def version_link(self, version: AssetVersion) -> str:
        return format_html('<a href="{}" data-testid="version-link">v{}</a>', _version_url(version), version.version)

    @admin.display(description="status")
    def status_pill(self, version: AssetVersion) -> str:
        return pill(version.status)

    @admin.display(description="note")
    def note_text(self, version: AssetVersion) -> str:
        return truncated(version.note) if version.note else "—"

    @admin.display(description="created")
    def created(self, version: AssetVersion) -> str:
        return moment(version.created_at)

    @admin.display(description="published")
    def published(self, version: AssetVersion) -> str:
        return moment(version.published_at)


class DeletionGuardMixin:
    """Delete only what ``deletion_refusal(obj)`` allows: a refused delete says why and deletes nothing.

    The delete page of a refused object redirects back to it with the reason;
    the bulk action refuses the whole selection; ``get_deleted_objects`` lists
    the reasons as protected, so Django's confirmation never offers "Yes".
    """

    def deletion_refusal(self, obj) -> str:
        raise NotImplementedError

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = [reason for reason in map(self.deletion_refusal, objs) if reason]
        return deleted, counts, perms_needed, [*protected, *refusals]

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        allowed = obj is not None and self.has_delete_permission(request, obj)
        refusal = self.deletion_refusal(obj) if allowed else ""  # else Django answers 404 or 403
        if refusal:
            self.message_user(request, _sentence(refusal), messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:inspector_{self.opts.model_name}_change", args=[obj.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (DeletionGuardMixin.delete_selected_guarded, "delete_selected",
                                          actions["delete_selected"][2])
        return actions

    def delete_selected_guarded(self, request, queryset):
        refusals = [reason for reason in map(self.deletion_refusal, queryset) if reason]
        if refusals:
            more = f" ({len(refusals) - 1} more refused.)" if len(refusals) > 1 else ""
            self.message_user(request, f"Nothing was deleted. {_sentence(refusals[0])}{more}", messages.ERROR)
            return None
        return delete_selected(self, request, queryset)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@admin.register(Asset)
class AssetAdmin(DeletionGuardMixin, TenantScopedAdmin, admin.ModelAdmin):
    tenant_shared_readable = True
    list_display = ["name", "type_label", "tenant_id", "published", "version_count", "updated"]
    list_filter = [("asset_type", titled(WordedChoicesFilter, "type")), "tenant_id"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AssetVersionInline]
    change_form_template = "admin/inspector/asset/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        # The identity of an existing asset is fixed; versions refer to it.
        if obj is not None:
            return ["tenant_id", "asset_type", "name", *self.readonly_fields]
        return self.readonly_fields

    def get_queryset(self, request):
        return selectors.assets_with_version_summary(super().get_queryset(request))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        asset = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if asset is not None and may_add_version(request, asset):
            source = asset.published_version or asset.versions.order_by("-version").first()
            context["new_draft_url"] = _draft_url(asset, source)
        return super().change_view(request, object_id, form_url, context)

    def response_add(self, request, obj: Asset, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)  # its "added" message
        # A new asset has no version yet: a plain "Save" goes on to write its first spec.
        plain_save = not any(key in request.POST for key in ("_continue", "_addanother", IS_POPUP_VAR))
        if plain_save and may_add_version(request, obj):
            return HttpResponseRedirect(_draft_url(obj))
        return response

    def deletion_refusal(self, asset: Asset) -> str:
        return services.asset_delete_refusal(asset=asset)

    def delete_model(self, request, obj: Asset) -> None:
        services.asset_delete(asset=obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():  # all or none, as for versions
            for asset in queryset:
                services.asset_delete(asset=asset)

    @admin.display(description="type", ordering="asset_type")
    def type_label(self, asset: Asset) -> str:
        return words(asset.asset_type)

    @admin.display(description="published", ordering="_published")
    def published(self, asset: Asset) -> str:
        return f"v{asset._published}" if asset._published else "—"

    @admin.display(description="versions", ordering="_version_count")
    def version_count(self, asset: Asset) -> int:
        return asset._version_count

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, asset: Asset) -> str:
        return moment(asset.updated_at)


def may_add_version(request: HttpRequest, asset: Asset) -> bool:
    """Whether the user may add a draft to ``asset``: the permission, in one of their tenants."""
    return request.user.has_perm(ADD_VERSION) and scope_for(request.user).allows(asset.tenant_id)


def may_publish(request: HttpRequest, asset: Asset) -> bool:
    """Whether the user may publish (or roll back) a version of ``asset``."""
    return request.user.has_perm(PUBLISH) and scope_for(request.user).allows(asset.tenant_id)


class DraftForm(forms.Form):
    """A new draft: a spec (checked on save by the asset type's contract) and a note."""

    spec = PrettyJSONField(label="Spec", help_text="Validated for the asset's type when you save.")
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
                           help_text="What changes, and why.")

    def __init__(self, *args, asset_type: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["spec"].widget = JSONEditor(schema=spec_json_schema(asset_type),
                                                schema_title=f"JSON schema of a {words(asset_type).lower()} spec")

    def add_contract_errors(self, exc: pydantic.ValidationError, *, in_spec: bool) -> None:
        """The contract's messages on the field they concern, each after its path in the spec.

        ``in_spec``: the error came from the asset type's spec model (paths are
        inside the spec), not from the request contract (paths start at the body).
        """
        for where, problems in pydantic_field_errors(exc).items():
            field = "note" if where == "note" and not in_spec else "spec"
            if not in_spec:
                where = where.removeprefix("spec").lstrip(".")
            where = "" if where in ("note", "spec", "non_field_errors") else where
            for problem in problems:
                named = where and not problem.startswith(("spec.", "spec:"))
                self.add_error(field, f"{where}: {problem}" if named else problem)


@admin.register(AssetVersion)
class AssetVersionAdmin(DeletionGuardMixin, TenantScopedAdmin, admin.ModelAdmin):
    """Versions are immutable: the admin shows them; services create, publish, roll back and delete them."""

    tenant_field = "asset__tenant_id"
    tenant_shared_readable = True

    list_display = ["asset_label", "version_label", "status_pill", "note_text", "author", "created", "published"]
    list_filter = [("status", WordedChoicesFilter), ("asset__asset_type", titled(WordedChoicesFilter, "asset type"))]
    search_fields = ["asset__name", "note"]
    list_select_related = ["asset", "author"]
    readonly_fields = ["asset", "version", "status_pill", "spec_json", "note", "author", "copied_from", "created_at",
                       "published_at", "archived_at"]
    fields = readonly_fields
    actions = ["new_draft_selected", "publish_selected", "rollback_selected"]
    change_form_template = "admin/inspector/assetversion/change_form.html"

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm(PUBLISH)

    def has_new_draft_permission(self, request) -> bool:
        return request.user.has_perm(ADD_VERSION)

    def has_add_permission(self, request) -> bool:
        return False  # a version is added as a draft of an asset (new_draft_view), never as a blank form

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new-draft/<int:asset_id>/", view(self.new_draft_view), name="inspector_assetversion_new_draft"),
            path("<path:object_id>/rollback/", view(self.rollback_view), name="inspector_assetversion_rollback"),
            path("<path:object_id>/publish/", view(self.publish_view), name="inspector_assetversion_publish"),
            *super().get_urls(),
        ]

    # --- list ---------------------------------------------------------------------------------------------

    @admin.display(description="asset", ordering="asset__name")
    def asset_label(self, version: AssetVersion) -> str:
        return truncated(f"{version.asset.name} ({words(version.asset.asset_type).lower()})")

    @admin.display(description="version", ordering="version")
    def version_label(self, version: AssetVersion) -> str:
        return f"v{version.version}"

    @admin.display(description="status", ordering="status")
    def status_pill(self, version: AssetVersion) -> str:
        return pill(version.status)

    @admin.display(description="note")
    def note_text(self, version: AssetVersion) -> str:
        return truncated(version.note) if version.note else "—"

    @admin.display(description="created", ordering="created_at")
    def created(self, version: AssetVersion) -> str:
        return moment(version.created_at)

    @admin.display(description="published", ordering="published_at")
    def published(self, version: AssetVersion) -> str:
        return moment(version.published_at)

    @admin.display(description="spec")
    def spec_json(self, version: AssetVersion) -> str:
        return format_html('<pre class="ops-json-pre" data-testid="spec-json">{}</pre>',
                           json.dumps(version.spec, indent=2, ensure_ascii=False))

    # --- actions: one version each, on its own page ----------------------------------------------------------

    def _one(self, request, queryset, doing: str) -> AssetVersion | None:
        if queryset.count() != 1:
            self.message_user(request, f"Select exactly one version to {doing}.", messages.ERROR)
            return None
        return queryset.select_related("asset").get()

    @admin.action(description="New draft from the selected version", permissions=["new_draft"])
    def new_draft_selected(self, request, queryset):
        version = self._one(request, queryset, "start a draft from")
        return HttpResponseRedirect(_draft_url(version.asset, version)) if version else None

    @admin.action(description="Roll back to the selected version (publish a copy)", permissions=["publish"])
    def rollback_selected(self, request, queryset):
        version = self._one(request, queryset, "roll back to")
        if version is None:
            return None
        return HttpResponseRedirect(reverse("admin:inspector_assetversion_rollback", args=[version.pk]))

    @admin.action(description="Publish the selected draft version", permissions=["publish"])
    def publish_selected(self, request, queryset) -> None:
        try:
            version = services.asset_version_publish_selected(versions=queryset, scope=scope_for(request.user))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.log_change(request, version, f"Published {version}")
        self.message_user(request, f"Published {version}; the previous version is archived.", messages.SUCCESS)

    # --- deletion ----------------------------------------------------------------------------------------

    def deletion_refusal(self, version: AssetVersion) -> str:
        return services.asset_version_delete_refusal(version=version)

    def delete_model(self, request, obj: AssetVersion) -> None:
        services.asset_versions_delete(versions=AssetVersion.objects.filter(pk=obj.pk), scope=scope_for(request.user))

    def delete_queryset(self, request, queryset) -> None:
        try:
            services.asset_versions_delete(versions=queryset, scope=scope_for(request.user))
        except ServiceError as exc:  # refused since the confirmation page: nothing was deleted
            self.message_user(request, f"Nothing was deleted. {_sentence(exc.message)}", messages.ERROR)

    # --- pages -------------------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if version is not None:
            context.update(self._buttons(request, version))
        return super().change_view(request, object_id, form_url, context)

    def _buttons(self, request, version: AssetVersion) -> dict[str, str]:
        buttons = {"asset_url": reverse("admin:inspector_asset_change", args=[version.asset_id])}
        if may_add_version(request, version.asset):
            buttons["new_draft_url"] = _draft_url(version.asset, version)
        if may_publish(request, version.asset):
            if version.status == AssetVersion.Status.DRAFT:
                buttons["publish_url"] = reverse("admin:inspector_assetversion_publish", args=[version.pk])
            elif version.status == AssetVersion.Status.ARCHIVED:
                buttons["rollback_url"] = reverse("admin:inspector_assetversion_rollback", args=[version.pk])
        return buttons

    def _version_or_404(self, request: HttpRequest, object_id: str) -> AssetVersion:
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404("No such asset version.")
        return version

    def _render(self, request: HttpRequest, template: str, context: dict, status: int = 200) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.opts, **context}
        return TemplateResponse(request, f"admin/inspector/assetversion/{template}", context, status=status)

    def new_draft_view(self, request: HttpRequest, asset_id: int):
        """A new draft of an asset, its spec started from ``?from=<version>`` (else the published or newest one)."""
        asset = scope_for(request.user).filter(Asset.objects.all(), shared=True).filter(pk=asset_id).first()
        if asset is None:
            raise Http404("No such asset.")
        if not may_add_version(request, asset):
            raise PermissionDenied
        chosen = request.GET.get("from", "")
        source = asset.versions.filter(version=int(chosen)).first() if chosen.isdigit() and len(chosen) < 10 else None
        source = source or asset.published_version or asset.versions.order_by("-version").first()
        initial = {"spec": source.spec if source else {}, "note": f"From v{source.version}: " if source else ""}
        form = DraftForm(request.POST or None, asset_type=asset.asset_type, initial=initial)
        if request.method == "POST" and form.is_valid():
            version = self._create_draft(request, form, asset, source)
            if version is not None:
                return HttpResponseRedirect(_version_url(version))
        return self._render(request, "new_draft.html", {
            "title": f"New draft of {asset.name}", "asset": asset, "source": source, "form": form,
            "asset_url": reverse("admin:inspector_asset_change", args=[asset.pk]),
        }, status=400 if form.errors else 200)

    def _create_draft(self, request, form: DraftForm, asset: Asset, source: AssetVersion | None) -> AssetVersion | None:
        spec = form.cleaned_data["spec"]
        try:
            body = VersionCreate.model_validate({"spec": spec, "note": form.cleaned_data["note"]})
        except pydantic.ValidationError as exc:
            form.add_contract_errors(exc, in_spec=False)
            if isinstance(spec, dict):
                try:  # say what else is wrong in one go: the spec as the service would check it
                    validate_spec(asset.asset_type, spec)
                except pydantic.ValidationError as spec_exc:
                    form.add_contract_errors(spec_exc, in_spec=True)
            return None
        try:
            version = services.asset_version_create(asset=asset, spec=body.spec, note=body.note, author=request.user,
                                                    scope=scope_for(request.user))
        except pydantic.ValidationError as exc:
            form.add_contract_errors(exc, in_spec=True)
            return None
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return None
        origin = f" from v{source.version}" if source else ""
        self.log_addition(request, version, f"New draft{origin}")
        self.message_user(request, f"Draft v{version.version} of {asset.name} saved{origin}. Publish it when ready.",
                          messages.SUCCESS)
        return version

    def rollback_view(self, request: HttpRequest, object_id: str):
        """Roll back to this version: a copy becomes the next version and is published (the current one archived)."""
        version = self._version_or_404(request, object_id)
        if not may_publish(request, version.asset):
            raise PermissionDenied
        return self._confirm(request, version, rollback=True)

    def publish_view(self, request: HttpRequest, object_id: str):
        """Publish this draft (the current published version is archived)."""
        version = self._version_or_404(request, object_id)
        if not may_publish(request, version.asset):
            raise PermissionDenied
        return self._confirm(request, version, rollback=False)

    def _confirm(self, request: HttpRequest, version: AssetVersion, *, rollback: bool):
        error = ""
        if request.method == "POST":
            try:
                done = self._do(request, version, rollback=rollback)
            except pydantic.ValidationError as exc:
                error = "; ".join(f"{where}: {' '.join(problems)}"
                                  for where, problems in pydantic_field_errors(exc).items())
            except ServiceError as exc:
                error = exc.message
            else:
                return HttpResponseRedirect(_version_url(done))
        asset = version.asset
        return self._render(request, "confirm.html", {
            "title": (f"Roll back {asset.name} to v{version.version}" if rollback
                      else f"Publish v{version.version} of {asset.name}"),
            "version": version, "asset": asset, "rollback": rollback, "published": asset.published_version,
            "next_number": (asset.versions.order_by("-version").values_list("version", flat=True).first() or 0) + 1,
            "error": error, "note": request.POST.get("note", ""), "version_url": _version_url(version),
            "asset_url": reverse("admin:inspector_asset_change", args=[asset.pk]),
        }, status=400 if error else 200)

    def _do(self, request: HttpRequest, version: AssetVersion, *, rollback: bool) -> AssetVersion:
        scope = scope_for(request.user)
        if rollback:
            body = VersionNumber.model_validate({"version": version.version, "note": request.POST.get("note", "")})
            done = services.asset_version_rollback(asset=version.asset, to_version=body.version, note=body.note,
                                                   author=request.user, scope=scope)
            self.log_addition(request, done, f"Rolled back to v{version.version} (published)")
            self.message_user(request, f"Rolled back {version.asset.name}: v{done.version}, a copy of "
                                       f"v{version.version}, is published.", messages.SUCCESS)
            return done
        done = services.asset_version_publish_selected(versions=AssetVersion.objects.filter(pk=version.pk), scope=scope)
        self.log_change(request, done, f"Published {done}")
        self.message_user(request, f"Published v{done.version} of {done.asset.name}; the previous version is archived.",
                          messages.SUCCESS)
        return done
