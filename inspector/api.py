"""REST endpoints for traces and the asset registry (SPEC §6).

Views are thin: read the request, call a selector or service, serialize.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.permissions import TenantInBodyPermission, TenantWritePermission
from access.tenancy import scope_for
from inspector import selectors, services
from inspector.asset_contracts import AssetCreate, AssetUpdate, VersionCreate, VersionNumber
from inspector.comparison_attempts import trace_compare_with_attempts
from inspector.contracts import STAGE_ORDER, TraceBatchIn, TraceIn
from inspector.filters import AssetFilter, TraceFilter
from inspector.models import Asset, Trace
from inspector.pagination import BoundedCursorPagination
from inspector.params import is_natural
from inspector.permissions import ModelPermissions
from inspector.serializers import (
    AssetSerializer,
    AssetVersionSerializer,
    StagePayloadSerializer,
    TraceBatchIngestedSerializer,
    TraceDetailSerializer,
    TraceDiffSerializer,
    TraceIngestedSerializer,
    TraceListSerializer,
)
from kernel.errors import InvalidInput, NotFound
from kernel.tenancy import SHARED_TENANT


class TracePagination(BoundedCursorPagination):
    """Newest traces first."""

    ordering = ("-started_at", "-id")


class TraceListCreateView(generics.ListAPIView):
    """List traces (filters, cursor paging), or ingest one trace or a batch of them."""

    queryset = Trace.objects.none()
    serializer_class = TraceListSerializer
    pagination_class = TracePagination
    filterset_class = TraceFilter
    filter_backends: list = []  # the selector applies the FilterSet
    throttle_scope = "ingest"

    @property
    def max_body_bytes(self) -> int:
        return settings.OPS_INGEST_MAX_BYTES  # read by inspector.parsers.LimitedJSONParser

    def get_queryset(self):
        return selectors.trace_list(filters=self.request.query_params, scope=scope_for(self.request.user))

    def throttle_cost(self, request: Request) -> int:
        """A batch counts as its number of traces (read by inspector.throttles.WriteRateThrottle)."""
        if isinstance(request.data, list):
            return max(1, min(len(request.data), settings.OPS_INGEST_BATCH_MAX))
        return 1

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="TraceIngestBody", serializers=[TraceIn, TraceBatchIn], resource_type_field_name=None
        ),
        responses={
            code: PolymorphicProxySerializer(
                component_name="TraceIngestAnswer", serializers=[TraceIngestedSerializer, TraceBatchIngestedSerializer],
                resource_type_field_name=None,
            )
            for code in (201, 200)
        },
        description="Ingest a whole trace (a JSON object) or a batch of traces (a JSON array of them, at most "
        "OPS_INGEST_BATCH_MAX, default 100). One trace: 201 on create, 200 when an identical body was already "
        "stored, 409 when the trace_id exists with a different body, 413 above the size limit. A batch is all or "
        "nothing in one transaction: 201 when at least one trace was created, else 200, with one result per item; "
        "any bad item (400 with paths starting at its index, 403 for its tenant, 409 for its trace_id) rejects "
        "the whole batch and nothing is written; 413 for more items than the limit.",
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request.user)
        if isinstance(request.data, list):
            batch = services.trace_ingest_batch(payloads=request.data, scope=scope)
            return Response(TraceBatchIngestedSerializer(batch).data,
                            status=status.HTTP_201_CREATED if batch.created else status.HTTP_200_OK)
        if not isinstance(request.data, dict):
            raise InvalidInput("the body must be a JSON object (one trace) or an array of them (a batch)")
        trace, created = services.trace_ingest(payload=request.data, scope=scope)
        body = TraceIngestedSerializer(trace).data
        return Response(
            body,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": body["url"]},
        )


# Trace ids are unique per tenant: ``?tenant=`` names the tenant when the
# reader sees several; without it the first stored trace wins (selectors.trace_pick).
TENANT_PARAMETER = OpenApiParameter(
    "tenant", OpenApiTypes.STR,
    description="The trace's tenant, for users of several tenants that each have a trace with this id; "
    "without it, the first stored of them.")


INCLUDE_PARAMETER = OpenApiParameter(
    "include", OpenApiTypes.STR, enum=["payloads"],
    description="payloads: every stage run's full input and output in this answer, up to "
    "OPS_TRACE_PAYLOADS_MAX_BYTES of payload JSON; stages past it are named under payloads.omitted.")


@extend_schema(responses=TraceDetailSerializer, parameters=[TENANT_PARAMETER, INCLUDE_PARAMETER])
class TraceDetailView(generics.GenericAPIView):
    """A trace with stage summaries and payload previews; with ?include=payloads, the whole trace in one answer."""

    queryset = Trace.objects.none()
    serializer_class = TraceDetailSerializer

    def get(self, request: Request, trace_id: str) -> Response:
        include = request.query_params.get("include", "")
        if include not in ("", "payloads"):
            raise InvalidInput("include must be 'payloads' or absent", field="include")
        trace = selectors.trace_get(trace_id=trace_id, scope=scope_for(request.user),
                                    tenant=request.query_params.get("tenant", ""))
        if include:
            trace.payload_inclusion = selectors.trace_payloads_attach(
                trace, limit=settings.OPS_TRACE_PAYLOADS_MAX_BYTES)
        return Response(self.get_serializer(trace).data)


class TraceStageView(generics.GenericAPIView):
    """The full input and output payloads of one stage run."""

    queryset = Trace.objects.none()
    serializer_class = StagePayloadSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("stage", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(STAGE_ORDER)),
            OpenApiParameter("attempt", OpenApiTypes.INT, description="Attempt number; the latest by default."),
            TENANT_PARAMETER,
        ]
    )
    def get(self, request: Request, trace_id: str, stage: str) -> Response:
        if stage not in STAGE_ORDER:
            raise NotFound(f"unknown stage {stage!r}; expected one of {', '.join(STAGE_ORDER)}")
        attempt = request.query_params.get("attempt")
        if attempt is not None and not is_natural(attempt, minimum=1):
            raise InvalidInput("attempt must be a positive integer", field="attempt")
        run = selectors.stage_run_with_payload(
            trace_id=trace_id, stage=stage, attempt=int(attempt) if attempt else None, scope=scope_for(request.user),
            tenant=request.query_params.get("tenant", ""),
        )
        return Response(self.get_serializer(run).data)


class TraceDiffView(generics.GenericAPIView):
    """Stage-by-stage comparison of a trace with a baseline trace."""

    queryset = Trace.objects.none()
    serializer_class = TraceDiffSerializer

    @extend_schema(
        parameters=[OpenApiParameter("baseline", OpenApiTypes.STR, required=True,
                                     description="Baseline trace id, in the trace's tenant."), TENANT_PARAMETER],
        responses={200: TraceDiffSerializer},
    )
    def get(self, request: Request, trace_id: str) -> Response:
        comparison = trace_compare_with_attempts(
            trace_id=trace_id, baseline_id=request.query_params.get("baseline", ""), scope=scope_for(request.user),
            tenant=request.query_params.get("tenant", ""))
        return Response(self.get_serializer(comparison).data)


class AssetViewSet(viewsets.ModelViewSet):
    """Assets by type and name, their versions, publish and rollback."""

    queryset = Asset.objects.none()
    serializer_class = AssetSerializer
    filterset_class = AssetFilter
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [ModelPermissions, TenantWritePermission, TenantInBodyPermission]
    body_tenant_default = SHARED_TENANT
    action_permissions = {
        ("versions", "GET"): ["inspector.view_assetversion"],
        ("versions", "POST"): ["inspector.add_assetversion"],
        "publish": ["inspector.publish_assetversion"],
        "rollback": ["inspector.publish_assetversion"],
        "traces": ["inspector.view_asset", "inspector.view_trace"],
    }

    def get_queryset(self):
        scope = scope_for(self.request.user)
        if self.action == "list":
            return selectors.asset_list(filters=self.request.query_params, scope=scope)
        return scope.filter(Asset.objects.all(), shared=True)

    @extend_schema(request=AssetCreate, responses={201: AssetSerializer})
    def create(self, request: Request) -> Response:
        body = AssetCreate.model_validate(json_object(request))
        asset = services.asset_create(**body.model_dump(), author=request.user, scope=scope_for(request.user))
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssetUpdate, responses=AssetSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        body = AssetUpdate.model_validate(json_object(request))
        asset = services.asset_update(asset=self.get_object(), description=body.description)
        return Response(AssetSerializer(asset).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.asset_delete(asset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"], responses=AssetVersionSerializer(many=True), description="Versions, newest first."
    )
    @extend_schema(
        methods=["POST"],
        request=VersionCreate,
        responses={201: AssetVersionSerializer},
        description="Create the next version as a draft; the spec is validated for the asset's type.",
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str) -> Response:
        asset = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.asset_versions(asset=asset))
            return self.get_paginated_response(AssetVersionSerializer(page, many=True).data)
        body = VersionCreate.model_validate(json_object(request))
        version = services.asset_version_create(asset=asset, spec=body.spec, note=body.note, author=request.user)
        return Response(AssetVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VersionNumber, responses=AssetVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        asset = self.get_object()
        body = VersionNumber.model_validate(json_object(request))
        version = services.asset_version_publish(version=selectors.asset_version_get(asset=asset, version=body.version))
        return Response(AssetVersionSerializer(version).data)

    @extend_schema(
        request=VersionNumber,
        responses={201: AssetVersionSerializer},
        description="Publish a new version copied from the named old version.",
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str) -> Response:
        body = VersionNumber.model_validate(json_object(request))
        version = services.asset_version_rollback(
            asset=self.get_object(), to_version=body.version, note=body.note, author=request.user
        )
        return Response(AssetVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("version", OpenApiTypes.INT)], responses=TraceListSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=TracePagination)
    def traces(self, request: Request, pk: str) -> Response:
        version = request.query_params.get("version")
        if version is not None and not is_natural(version):
            raise InvalidInput("version must be a number", field="version")
        traces = selectors.traces_using_asset(asset=self.get_object(), version=int(version) if version else None,
                                              scope=scope_for(request.user))
        page = self.paginate_queryset(traces)
        return self.get_paginated_response(TraceListSerializer(page, many=True).data)


def contract_write_schema(full: type, patch: type, serializer: type):
    """Document a viewset whose writes take pydantic contracts: ``full`` for create and
    update, ``patch`` for partial_update, each answered by ``serializer`` (201 on create)."""
    return extend_schema_view(
        create=extend_schema(request=full, responses={201: serializer}),
        update=extend_schema(request=full, responses={200: serializer}),
        partial_update=extend_schema(request=patch, responses={200: serializer}),
    )


def json_object(request: Request) -> dict:
    """The request body, which must be a JSON object, for a contract's ``model_validate``."""
    if not isinstance(request.data, dict):
        raise InvalidInput("the body must be a JSON object")
    return request.data
