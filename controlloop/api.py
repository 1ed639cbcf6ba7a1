"""``/controlloop`` endpoints: policies (CRUD), decide, events."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from access.errors import TenantForbidden
from access.permissions import TenantInBodyPermission, TenantWritePermission
from access.tenancy import scope_for
from controlloop import selectors
from controlloop.filters import ReplanEventFilter
from controlloop.models import ReplanEvent, ReplanPolicy
from controlloop.serializers import DecideRequestSerializer, ReplanEventSerializer, ReplanPolicySerializer
from controlloop.services import DecisionRecord, replan_decide
from controlloop.triggers import safe_parse_trigger
from inspector.pagination import BoundedCursorPagination
from inspector.permissions import ModelPermissions
from inspector.selectors import trace_visible
from kernel.errors import Conflict


class ReplanPolicyViewSet(viewsets.ModelViewSet):
    queryset = ReplanPolicy.objects.all()
    serializer_class = ReplanPolicySerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]
    permission_classes = [ModelPermissions, TenantWritePermission, TenantInBodyPermission]
    body_tenant_default = ""

    def get_queryset(self):
        # Everyone reads the default policy (tenant ""); only superusers change it.
        return scope_for(self.request.user).filter(ReplanPolicy.objects.all(), blank_is_shared=True)

    def _require_tenant(self, tenant_id: str) -> None:
        scope = scope_for(self.request.user)
        if not tenant_id and not scope.unrestricted:
            raise TenantForbidden("only superusers may create or change the default policy")
        scope.require(tenant_id)

    def perform_create(self, serializer) -> None:
        self._require_tenant(serializer.validated_data.get("tenant_id", ""))
        serializer.save()

    def perform_update(self, serializer) -> None:
        self._require_tenant(serializer.validated_data.get("tenant_id", serializer.instance.tenant_id))
        serializer.save()

    def perform_destroy(self, instance: ReplanPolicy) -> None:
        if instance.is_default:
            raise Conflict("the default policy cannot be deleted; edit it instead")
        instance.delete()


class DecideView(generics.GenericAPIView):
    """Ask the control loop about a trigger for a stored trace; the decision is recorded as events."""

    queryset = ReplanEvent.objects.none()
    serializer_class = DecideRequestSerializer
    action_permissions = {"": ["controlloop.add_replanevent"]}

    @extend_schema(request=DecideRequestSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        trace = trace_visible(trace_id=data["trace_id"], scope=scope_for(request.user), tenant=data.get("tenant_id", ""))
        record = replan_decide(trace_id=trace.trace_id, tenant_id=trace.tenant_id,
                               trigger=safe_parse_trigger(data["trigger"]), plan=data["plan"])
        return Response(_decision_body(record), status=status.HTTP_201_CREATED)


def _decision_body(record: DecisionRecord) -> dict:
    """The decide response: the recorded events' ids and the decision with its patch."""
    decision = record.decision
    return {"event_id": record.decision_event.pk, "request_event_id": record.request_event.pk,
            "approved": decision.approved, "decision": decision.decision, "reason": decision.reason,
            "veto": decision.veto, "attempt": decision.attempt, "max_attempts": decision.max_attempts,
            "scope": decision.scope, "guidance": decision.guidance,
            "trigger": record.decision_event.trigger_type, "severity": record.decision_event.severity,
            "patch": {"before": decision.patch.before, "after": decision.patch.after,
                      "json_patch": decision.patch.json_patch()}}


class EventPagination(BoundedCursorPagination):
    ordering = ("created_at", "id")
    page_size = 100
    max_page_size = 1000


class ReplanEventListView(generics.ListAPIView):
    queryset = ReplanEvent.objects.none()
    serializer_class = ReplanEventSerializer
    pagination_class = EventPagination
    filterset_class = ReplanEventFilter
    filter_backends: list = []

    def get_queryset(self):
        return scope_for(self.request.user).filter(selectors.replan_event_list(filters=self.request.query_params))
