"""``GET /asset-registry/assets/{id}/impact``: an asset's impact report, or its CSV/JSON download."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from access.tenancy import scope_for
from impact.export import impact_csv
from impact.params import report_arguments
from impact.report import asset_impact
from impact.serializers import ImpactReportSerializer
from inspector.models import Asset
from kernel.errors import InvalidInput


class ImpactView(generics.GenericAPIView):
    """An asset's impact report as JSON, or as a download with ``?export=csv|json``."""

    queryset = Asset.objects.none()
    filter_backends: list = []
    # As when this was an action of AssetViewSet: GET and HEAD need both, other methods the model's defaults (403).
    action_permissions = {("", "GET"): ["inspector.view_asset", "inspector.view_trace"],
                          ("", "HEAD"): ["inspector.view_asset", "inspector.view_trace"]}

    def get_queryset(self):
        return scope_for(self.request.user).filter(Asset.objects.all(), shared=True)

    @extend_schema(
        description="An asset's impact report: per-version figures, base against target with significance tests, "
                    "quality axes, regression risk, related assets and recommendations. A figure that does not "
                    "exist (no traces, no analyses) is left out, never null.",
        parameters=[
            OpenApiParameter("base", OpenApiTypes.INT), OpenApiParameter("target", OpenApiTypes.INT),
            OpenApiParameter("from", OpenApiTypes.DATETIME), OpenApiParameter("to", OpenApiTypes.DATETIME),
            OpenApiParameter("tenant", OpenApiTypes.STR),
            OpenApiParameter("include_test_mode", OpenApiTypes.BOOL, default=False,
                             description="Count test-mode traces (override tests, stage tests, golden runs) too; "
                                         "by default only production traffic counts."),
            OpenApiParameter("export", OpenApiTypes.STR, enum=["csv", "json"], description="Download the report."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(ImpactReportSerializer, description="The report (or ?export=json)."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                "?export=csv: the report as one table (Section, Item, Base, Target, Change, Change (%), p-value, "
                "Significant, Note) with readable names, rates in %, rounded figures, risk, recommendations, "
                "comparison, per-stage figures, quality axes, related assets and versions.")),
        },
    )
    def get(self, request: Request, pk: str):
        asset = self.get_object()
        export = request.query_params.get("export", "")
        if export not in ("", "csv", "json"):
            raise InvalidInput("export must be csv or json", field="export")
        report = asset_impact(asset=asset, **report_arguments(request.query_params, user=request.user))
        if export == "csv":
            response = HttpResponse(impact_csv(report), content_type="text/csv")
        elif export == "json":
            data = ImpactReportSerializer(report).data
            response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
        else:
            return Response(ImpactReportSerializer(report).data)
        response["Content-Disposition"] = f'attachment; filename="impact-{asset.asset_type}-{asset.name}.{export}"'
        return response
