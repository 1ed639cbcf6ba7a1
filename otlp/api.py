"""``POST /v1/traces``: the OTLP/HTTP trace endpoint (protobuf or JSON, gzip or not; docs/otlp.md).

Token auth, the ``inspector.add_trace`` permission, tenant membership and the
ingest rate limit apply as for ``POST /inspector/traces``. The answer is an
``ExportTraceServiceResponse`` in the request's encoding; its
``partial_success`` says how many spans were rejected and why, and carries
warnings (spans that map to no stage) with ``rejected_spans`` 0, as OTLP allows.
OTLP/JSON's keys are the protocol's lowerCamelCase, not this API's snake_case.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from rest_framework.exceptions import PermissionDenied, UnsupportedMediaType
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from access.tenancy import scope_for, user_tenants
from kernel.errors import InvalidInput, PayloadTooLarge
from kernel.tenancy import SHARED_TENANT
from otlp.decoding import JSON, PROTOBUF, ExportTooLarge, UnreadableExport, decode_export, inflate, media_type
from otlp.services import otlp_export

# One unit of the ingest rate limit per this many bytes of export (about one ~10 KB trace).
BYTES_PER_THROTTLE_UNIT = 10_000


def _default_tenant(user) -> str:
    """Spans without ``ops.tenant_id`` go to the caller's only tenant, else the shared one."""
    tenants = user_tenants(user)
    return tenants[0] if tenants and len(tenants) == 1 else SHARED_TENANT


class OtlpTracesView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "ingest"

    def throttle_cost(self, request: Request) -> int:
        return max(1, len(request._request.body) // BYTES_PER_THROTTLE_UNIT)

    @extend_schema(
        operation_id="otlp_traces_export",
        request={PROTOBUF: OpenApiTypes.BINARY, JSON: OpenApiTypes.OBJECT},
        responses={(200, JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="ExportTraceServiceResponse"),
                   (200, PROTOBUF): OpenApiResponse(OpenApiTypes.BINARY, description="ExportTraceServiceResponse")},
        description="OTLP/HTTP trace export (an ExportTraceServiceRequest, protobuf or JSON, optionally "
        "Content-Encoding: gzip). Spans become traces and stages (docs/otlp.md); the answer's partialSuccess "
        "counts rejected spans and names spans that map to no stage. 400 unreadable body, 413 over "
        "OPS_INGEST_MAX_BYTES (inflated), 415 other content types, 403 a tenant the caller is not a member of.",
    )
    def post(self, request: Request) -> HttpResponse:
        if not request.user.has_perm("inspector.add_trace"):
            raise PermissionDenied("you need the permission inspector.add_trace")
        kind = media_type(request.content_type or "")
        if kind not in (PROTOBUF, JSON):
            raise UnsupportedMediaType(kind or "(none)")
        try:
            raw = inflate(request._request.body, request.headers.get("Content-Encoding", ""),
                          limit=settings.OPS_INGEST_MAX_BYTES)
            export = decode_export(raw, content_type=kind)
        except ExportTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from exc
        except UnreadableExport as exc:
            raise InvalidInput(str(exc)) from exc
        outcome = otlp_export(export=export, scope=scope_for(request.user), default_tenant=_default_tenant(request.user))
        answer = ExportTraceServiceResponse()
        if outcome.rejected_spans or outcome.messages:
            answer.partial_success.rejected_spans = outcome.rejected_spans
            answer.partial_success.error_message = outcome.error_message[:4000]
        if kind == PROTOBUF:
            return HttpResponse(answer.SerializeToString(), content_type=PROTOBUF)
        return HttpResponse(json_format.MessageToJson(answer, indent=None), content_type=JSON)
