"""``/inspector/regression/suites`` and ``/inspector/regression/suite-runs``: golden suites over the API.

Scoped and permitted as golden queries are: a user sees only its tenants'
suites (another tenant's id answers 404), a body naming another tenant 403;
model permissions per method, and starting a run or recording a baseline
needs what a golden-query run or baseline needs.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.permissions import TenantInBodyPermission
from access.tenancy import scope_for
from inspector.api import json_object
from inspector.permissions import ModelPermissions
from inspector.serializers import ErrorDetailSerializer
from kernel.tenancy import SHARED_TENANT
from regression import suite_selectors
from regression.assertions import assertions_dump
from regression.services.suite_edits import suite_item_delete, suite_item_save, suite_save
from regression.services.suites import suite_delete, suite_record_baseline, suite_run_request
from regression.suite_contracts import SuiteIn, SuiteItemIn, SuiteItemPatch, SuitePatch, SuiteRunRequest
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun
from regression.suite_serializers import (
    SuiteItemSerializer,
    SuiteRunAcceptedSerializer,
    SuiteRunDetailSerializer,
    SuiteRunSerializer,
    SuiteSerializer,
)

# A 400 is {"detail": "..."} or {"field.path": ["message", ...]} (inspector.api_errors).
BAD_INPUT_SCHEMA = {
    "type": "object", "minProperties": 1,
    "description": 'Bad input: {"detail": "..."} or {"field.path": ["message", ...]}.',
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}


# The paths take any segment and the views answer 404 for one that is no id (as the router's paths do).
SUITE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The suite's id.")
ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="The item's id.")
RUN_ID = OpenApiParameter("run_id", int, OpenApiParameter.PATH, description="The suite run's id.")


def errors(*codes: int, bad_input: bool = False) -> dict:
    """The documented error answers of an operation: 401 and 403 always, ``codes``, and 400 for bad input."""
    documented: dict = dict.fromkeys((401, 403, *codes), ErrorDetailSerializer)
    if bad_input:
        documented[400] = BAD_INPUT_SCHEMA
    return documented


def _accepted(run: SuiteRun) -> Response:
    run.refresh_from_db(fields=["status"])
    accepted = {"run_id": run.pk, "status": run.status, "url": f"/inspector/regression/suite-runs/{run.pk}"}
    return Response(SuiteRunAcceptedSerializer(accepted).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(description="The suites of your tenants, by name.", responses={
        200: SuiteSerializer(many=True), **errors()}),
    create=extend_schema(request=SuiteIn, responses={201: SuiteSerializer, **errors(bad_input=True)}),
    retrieve=extend_schema(responses={200: SuiteSerializer, **errors(404)}),
    partial_update=extend_schema(request=SuitePatch, responses={200: SuiteSerializer, **errors(404, 409, bad_input=True)},
                                 description="Change the fields sent; a suite with items or runs keeps its tenant (409)."),
    destroy=extend_schema(responses={204: None, **errors(404, 409)},
                          description="Delete a suite and its items; 409 once it has runs (disable it instead)."),
)
class SuiteViewSet(viewsets.ModelViewSet):
    queryset = GoldenSuite.objects.all()
    serializer_class = SuiteSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [ModelPermissions, TenantInBodyPermission]
    body_tenant_default = SHARED_TENANT
    action_permissions = {
        "baseline": ["regression.add_baseline"],
        ("runs", "GET"): ["regression.view_suiterun"],
        ("runs", "POST"): ["regression.add_regressionrun"],
    }

    @property
    def throttle_scope(self) -> str | None:
        return "pipeline" if self.action in ("baseline", "runs") else None  # runs re-run the pipeline

    def get_queryset(self):
        return suite_selectors.suite_list(scope=scope_for(self.request.user))

    def create(self, request: Request) -> Response:
        body = SuiteIn.model_validate(json_object(request))
        suite = suite_save(suite=GoldenSuite(), changes=body.model_dump(), scope=scope_for(request.user))
        return Response(self.get_serializer(self.get_queryset().get(pk=suite.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        changes = SuitePatch.model_validate(json_object(request)).changes()
        suite = suite_save(suite=self.get_object(), changes=changes, scope=scope_for(request.user))
        return Response(self.get_serializer(self.get_queryset().get(pk=suite.pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        suite_delete(suite=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: SuiteRunAcceptedSerializer, **errors(404, 429, bad_input=True)},
                   description="Record every item's baseline: `repeats` runs each with the published assets, "
                               "as a suite run (trigger `baseline`); poll its url.")
    @action(detail=True, methods=["post"])
    def baseline(self, request: Request, pk: str) -> Response:
        return _accepted(suite_record_baseline(suite=self.get_object(), user=request.user))

    @extend_schema(methods=["GET"], responses={200: SuiteRunSerializer(many=True), **errors(404)},
                   description="The suite's runs, newest first.")
    @extend_schema(methods=["POST"], request=SuiteRunRequest,
                   responses={202: SuiteRunAcceptedSerializer, **errors(404, 429, bad_input=True)},
                   description="Start a run of every item against its baseline (every item needs one); "
                               "poll its url for progress and the verdict table.")
    @action(detail=True, methods=["get", "post"], serializer_class=SuiteRunSerializer)
    def runs(self, request: Request, pk: str) -> Response:
        suite = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(suite_selectors.suite_run_list(scope=scope_for(request.user), suite=suite))
            return self.get_paginated_response(SuiteRunSerializer(page, many=True).data)
        body = SuiteRunRequest.model_validate(json_object(request))
        return _accepted(suite_run_request(suite=suite, overrides=body.overrides, user=request.user))


@extend_schema_view(
    list=extend_schema(parameters=[SUITE_ID], responses={200: SuiteItemSerializer(many=True), **errors(404)},
                       description="The suite's items, in the order they run."),
    create=extend_schema(parameters=[SUITE_ID], request=SuiteItemIn,
                         responses={201: SuiteItemSerializer, **errors(404, bad_input=True)}),
    retrieve=extend_schema(parameters=[SUITE_ID, ITEM_ID], responses={200: SuiteItemSerializer, **errors(404)}),
    partial_update=extend_schema(parameters=[SUITE_ID, ITEM_ID], request=SuiteItemPatch,
                                 responses={200: SuiteItemSerializer, **errors(404, bad_input=True)},
                                 description="Change an item; changing what it runs clears its baseline."),
    destroy=extend_schema(parameters=[SUITE_ID, ITEM_ID], responses={204: None, **errors(404, 409)},
                          description="Delete an item; 409 once it has results in a suite run (its history)."),
)
class SuiteItemViewSet(viewsets.ModelViewSet):
    queryset = SuiteItem.objects.all()
    serializer_class = SuiteItemSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_url_kwarg = "item_id"

    def _suite(self) -> GoldenSuite:
        return generics.get_object_or_404(suite_selectors.suite_list(scope=scope_for(self.request.user)),
                                          pk=self.kwargs["id"])

    def get_queryset(self):
        return suite_selectors.suite_items(suite=self._suite())

    def create(self, request: Request, id: str) -> Response:
        body = SuiteItemIn.model_validate(json_object(request))
        changes = {**body.model_dump(), "assertions": assertions_dump(body.assertions)}
        item = suite_item_save(item=SuiteItem(suite=self._suite()), changes=changes)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, id: str, item_id: str) -> Response:
        body = SuiteItemPatch.model_validate(json_object(request))
        changes = body.changes()
        if "assertions" in changes:
            changes["assertions"] = assertions_dump(body.assertions)
        return Response(self.get_serializer(suite_item_save(item=self.get_object(), changes=changes)).data)

    def destroy(self, request: Request, id: str, item_id: str) -> Response:
        suite_item_delete(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[RUN_ID], responses={200: SuiteRunDetailSerializer, **errors(404)},
               description="A suite run: status and progress, then its verdict and score, and per item: verdict, "
                           "score, pass^k (passes/repeats, pass_all), failed assertions, per-stage verdicts and the "
                           "candidate and baseline traces.")
class SuiteRunDetailView(generics.RetrieveAPIView):
    queryset = SuiteRun.objects.all()
    serializer_class = SuiteRunDetailSerializer
    lookup_url_kwarg = "run_id"

    def get_queryset(self):
        return suite_selectors.suite_run_list(scope=scope_for(self.request.user))

    def retrieve(self, request: Request, run_id: str) -> Response:
        run = self.get_object()
        rows = suite_selectors.suite_run_table(run=run)
        return Response(SuiteRunDetailSerializer(run, context={"rows": rows}).data)
