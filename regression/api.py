"""``/inspector/regression`` endpoints: analyses, stage compare, golden queries, runs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import TenantInBodyPermission
from access.tenancy import scope_for
from inspector.api import contract_write_schema, json_object
from inspector.permissions import ModelPermissions
from inspector.serializers import ErrorDetailSerializer
from kernel.errors import InvalidInput
from kernel.tenancy import SHARED_TENANT
from regression import selectors, services
from regression.contracts import (
    AnalyzeRequest,
    GoldenQueryIn,
    GoldenQueryPatch,
    RunRequest,
    SetBaselineRequest,
    StageCompareRequest,
)
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus
from regression.serializers import (
    AnalysisAcceptedSerializer,
    AnalysisSerializer,
    BaselineSerializer,
    GoldenQuerySerializer,
    RunSerializer,
    StageCompareResultSerializer,
)
from regression.services.compare import stage_compare

UNIQUE_NAME = "The fields tenant_id, name must make a unique set."  # DRF's message, kept


class AnalyzeView(APIView):
    """Start an analysis (asynchronous): 202 with its id; poll GET …/regression/{analysis_id}."""

    queryset = RegressionAnalysis.objects.none()  # for the model permissions only (no serializer: a contract)

    @extend_schema(request=AnalyzeRequest, responses={202: AnalysisAcceptedSerializer})
    def post(self, request: Request) -> Response:
        body = AnalyzeRequest.model_validate(json_object(request))
        analysis = services.analysis_request(baseline_trace_ids=body.baseline, candidate_trace_ids=body.candidate,
                                             options=body.options, user=request.user,
                                             scope=scope_for(request.user))
        analysis.refresh_from_db(fields=["status"])
        accepted = {"analysis_id": analysis.pk, "status": analysis.status,
                    "url": f"/inspector/regression/{analysis.pk}"}
        return Response(AnalysisAcceptedSerializer(accepted).data, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailView(generics.RetrieveAPIView):
    queryset = RegressionAnalysis.objects.all()
    serializer_class = AnalysisSerializer
    lookup_url_kwarg = "analysis_id"

    def get_queryset(self):
        return scope_for(self.request.user).filter(RegressionAnalysis.objects.all())


class StageCompareView(APIView):
    """Compare one stage synchronously: two trace ids and a stage, or two StageOutput bodies."""

    queryset = RegressionAnalysis.objects.none()  # for the model permissions only (no serializer: a contract)
    action_permissions = {"": ["regression.view_regressionanalysis"]}

    @extend_schema(request=StageCompareRequest, responses={200: StageCompareResultSerializer})
    def post(self, request: Request) -> Response:
        body = StageCompareRequest.model_validate(json_object(request))
        sides: dict[str, Any] = ({"baseline": body.baseline, "candidate": body.candidate} if body.by_bodies else
                                 {"baseline_trace_id": body.baseline_trace_id,
                                  "candidate_trace_id": body.candidate_trace_id})
        result = stage_compare(stage=str(body.stage), options=body.options, scope=scope_for(request.user), **sides)
        return Response(StageCompareResultSerializer(result).data)


@contract_write_schema(GoldenQueryIn, GoldenQueryPatch, GoldenQuerySerializer)
class GoldenQueryViewSet(viewsets.ModelViewSet):
    queryset = GoldenQuery.objects.all()
    serializer_class = GoldenQuerySerializer
    filter_backends: list = []
    permission_classes = [ModelPermissions, TenantInBodyPermission]
    body_tenant_default = SHARED_TENANT
    action_permissions = {
        ("baseline", "GET"): ["regression.view_baseline"],
        ("baseline", "POST"): ["regression.add_baseline"],
        "run": ["regression.add_regressionrun"],
    }

    @property
    def throttle_scope(self) -> str | None:
        return "pipeline" if self.action == "run" else None  # a run re-runs the pipeline

    def get_queryset(self):
        return scope_for(self.request.user).filter(GoldenQuery.objects.all())

    def create(self, request: Request) -> Response:
        body = GoldenQueryIn.model_validate(json_object(request))
        query = self._save(GoldenQuery(), body.model_dump())
        return Response(self.get_serializer(query).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        query = self.get_object()
        if partial:
            changes = GoldenQueryPatch.model_validate(json_object(request)).changes()
        else:
            body = GoldenQueryIn.model_validate(json_object(request))
            # As before: an absent tenant_id or enabled keeps its value, absent options become {}.
            changes = body.model_dump(include=body.model_fields_set | {"options"})
        return Response(self.get_serializer(self._save(query, changes)).data)

    def _save(self, query: GoldenQuery, changes: dict[str, Any]) -> GoldenQuery:
        """Apply validated fields: the tenant must be the user's, the name unique within it."""
        for field, value in changes.items():
            setattr(query, field, value)
        scope_for(self.request.user).require(query.tenant_id)
        if GoldenQuery.objects.filter(tenant_id=query.tenant_id, name=query.name).exclude(pk=query.pk).exists():
            raise InvalidInput(UNIQUE_NAME, field="non_field_errors")
        query.save()
        return query

    @extend_schema(responses={204: None, 409: ErrorDetailSerializer},
                   description="Delete a golden query and its baselines; 409 once it has runs (disable it instead).")
    def destroy(self, request: Request, pk: str) -> Response:
        services.golden_query_delete(golden_query=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses=BaselineSerializer(many=True),
                   description="The baselines set for this query, newest (the current one) first; at most 100.")
    @extend_schema(methods=["POST"], request=SetBaselineRequest, responses={201: BaselineSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def baseline(self, request: Request, pk: str) -> Response:
        query = self.get_object()
        if request.method == "GET":
            return Response(BaselineSerializer(query.baselines.select_related("trace")[:100], many=True).data)
        body = SetBaselineRequest.model_validate(json_object(request))
        baseline = services.golden_query_set_baseline(golden_query=query, user=request.user,
                                                      scope=scope_for(request.user),
                                                      trace_id=body.trace_id, note=body.note)
        return Response(BaselineSerializer(baseline).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RunRequest, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        body = RunRequest.model_validate(json_object(request))
        run = services.golden_query_run(golden_query=self.get_object(), overrides=body.overrides)
        run.refresh_from_db()
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("golden_query", OpenApiTypes.STR, description="Only runs of the golden query with this name."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(WorkStatus.values), description="Only runs in this status."),
]))
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = RegressionRun.objects.none()
    serializer_class = RunSerializer
    filter_backends: list = []

    def get_queryset(self):
        return scope_for(self.request.user).filter(selectors.run_list(self.request.query_params),
                                                   "golden_query__tenant_id")
