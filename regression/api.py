"""``/inspector/regression`` endpoints: analyses, stage compare, golden queries, runs."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.permissions import TenantInBodyPermission
from access.tenancy import scope_for
from inspector.permissions import ModelPermissions
from inspector.serializers import ErrorDetailSerializer
from kernel.tenancy import SHARED_TENANT
from regression import selectors, services
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus
from regression.serializers import (
    AnalysisSerializer,
    AnalyzeRequestSerializer,
    BaselineSerializer,
    GoldenQuerySerializer,
    RunRequestSerializer,
    RunSerializer,
    SetBaselineSerializer,
    StageCompareSerializer,
)
from regression.services.compare import stage_compare


class AnalyzeView(generics.GenericAPIView):
    """Start an analysis (asynchronous): 202 with its id; poll GET …/regression/{analysis_id}."""

    queryset = RegressionAnalysis.objects.none()
    serializer_class = AnalyzeRequestSerializer

    @extend_schema(responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        analysis = services.analysis_request(baseline_trace_ids=data["baseline"], candidate_trace_ids=data["candidate"],
                                             options=data["options"], user=request.user,
                                             scope=scope_for(request.user))
        analysis.refresh_from_db(fields=["status"])
        return Response({"analysis_id": str(analysis.pk), "status": analysis.status,
                         "url": f"/inspector/regression/{analysis.pk}"}, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailView(generics.RetrieveAPIView):
    queryset = RegressionAnalysis.objects.all()
    serializer_class = AnalysisSerializer
    lookup_url_kwarg = "analysis_id"

    def get_queryset(self):
        return scope_for(self.request.user).filter(RegressionAnalysis.objects.all())


class StageCompareView(generics.GenericAPIView):
    """Compare one stage synchronously: two trace ids and a stage, or two StageOutput bodies."""

    queryset = RegressionAnalysis.objects.none()
    serializer_class = StageCompareSerializer
    action_permissions = {"": ["regression.view_regressionanalysis"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(stage_compare(**serializer.validated_data, scope=scope_for(request.user)))


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

    def perform_create(self, serializer) -> None:
        scope_for(self.request.user).require(serializer.validated_data.get("tenant_id", SHARED_TENANT))
        serializer.save()

    def perform_update(self, serializer) -> None:
        scope_for(self.request.user).require(serializer.validated_data.get("tenant_id", serializer.instance.tenant_id))
        serializer.save()

    @extend_schema(responses={204: None, 409: ErrorDetailSerializer},
                   description="Delete a golden query and its baselines; 409 once it has runs (disable it instead).")
    def destroy(self, request: Request, pk: str) -> Response:
        services.golden_query_delete(golden_query=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses=BaselineSerializer(many=True),
                   description="The baselines set for this query, newest (the current one) first; at most 100.")
    @extend_schema(methods=["POST"], request=SetBaselineSerializer, responses={201: BaselineSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def baseline(self, request: Request, pk: str) -> Response:
        query = self.get_object()
        if request.method == "GET":
            return Response(BaselineSerializer(query.baselines.select_related("trace")[:100], many=True).data)
        serializer = SetBaselineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        baseline = services.golden_query_set_baseline(golden_query=query, user=request.user,
                                                      scope=scope_for(request.user),
                                                      **serializer.validated_data)
        return Response(BaselineSerializer(baseline).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RunRequestSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.golden_query_run(golden_query=self.get_object(), overrides=serializer.validated_data["overrides"])
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
