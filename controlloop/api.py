"""``/controlloop`` endpoints: policies (CRUD), decide, events."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.errors import TenantForbidden
from access.permissions import TenantInBodyPermission, TenantWritePermission
from access.tenancy import scope_for
from controlloop import selectors
from controlloop.filters import ReplanEventFilter
from controlloop.models import ReplanEvent, ReplanPolicy
from controlloop.requests import DecideRequest, ReplanPolicyIn, ReplanPolicyPatch
from controlloop.serializers import DecisionSerializer, ReplanEventSerializer, ReplanPolicySerializer
from controlloop.services import DecisionRecord, replan_decide
from controlloop.triggers import safe_parse_trigger
from inspector.api import contract_write_schema, json_object
from inspector.pagination import BoundedCursorPagination
from inspector.permissions import ModelPermissions
from inspector.selectors import trace_visible
from kernel.errors import Conflict


@contract_write_schema(ReplanPolicyIn, ReplanPolicyPatch, ReplanPolicySerializer)
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

    def create(self, request: Request) -> Response:
        body = ReplanPolicyIn.model_validate(json_object(request))
        policy = self._save(ReplanPolicy(), body.changes())
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        policy = self.get_object()
        contract = ReplanPolicyPatch if partial else ReplanPolicyIn
        changes = contract.model_validate(json_object(request)).changes()
        return Response(self.get_serializer(self._save(policy, changes)).data)

    def _save(self, policy: ReplanPolicy, changes: dict[str, Any]) -> ReplanPolicy:
        """Apply validated fields, check the whole policy (``clean``), its tenant and uniqueness; save."""
        for field, value in changes.items():
            setattr(policy, field, value)
        try:
            policy.clean()
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        self._require_tenant(policy.tenant_id)
        taken = _taken(policy)
        if taken:
            raise ValidationError(taken)
        policy.save()
        return policy

    def perform_destroy(self, instance: ReplanPolicy) -> None:
        if instance.is_default:
            raise Conflict("the default policy cannot be deleted; edit it instead")
        instance.delete()


class DecideView(APIView):
    """Ask the control loop about a trigger for a stored trace; the decision is recorded as events."""

    action_permissions = {"": ["controlloop.add_replanevent"]}

    @extend_schema(request=DecideRequest, responses={201: DecisionSerializer})
    def post(self, request: Request) -> Response:
        body = DecideRequest.model_validate(json_object(request))
        trace = trace_visible(trace_id=body.trace_id, scope=scope_for(request.user), tenant=body.tenant_id)
        record = replan_decide(trace_id=trace.trace_id, tenant_id=trace.tenant_id,
                               trigger=safe_parse_trigger(body.trigger), plan=body.plan)
        return Response(DecisionSerializer(_decision_body(record)).data, status=status.HTTP_201_CREATED)


def _taken(policy: ReplanPolicy) -> dict[str, list[str]]:
    """The unique constraints another policy already holds (DRF's messages, as before)."""
    others = ReplanPolicy.objects.exclude(pk=policy.pk)
    taken: dict[str, list[str]] = {}
    if policy.tenant_id and others.filter(tenant_id=policy.tenant_id).exists():
        taken["tenant_id"] = ["replan policy with this tenant id already exists."]
    if policy.is_default and others.filter(is_default=True).exists():
        taken["is_default"] = ["replan policy with this is default already exists."]
    if others.filter(tenant_id=policy.tenant_id, name=policy.name).exists():
        taken["non_field_errors"] = ["The fields tenant_id, name must make a unique set."]
    return taken


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
