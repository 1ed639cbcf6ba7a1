"""``/ops`` endpoints: run the pipeline, and re-run one stage with overrides."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.tenancy import draft_scope_for, scope_for
from inspector import selectors
from inspector.api import json_object
from inspector.contracts import AskRequest, ExecutionContext, StageTestRequest
from inspector.pipeline.replies import pipeline_reply
from inspector.pipeline.runner import pipeline_run
from inspector.pipeline.stage_rerun import stage_rerun
from inspector.serializers import StageTestResultSerializer, TraceDetailSerializer

RUN = "inspector.run_pipeline"
TEST_MODE = "inspector.use_test_mode"


def _require(request: Request, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied(f"you need the permission(s): {', '.join(perms)}")


class AskView(APIView):
    """Run the pipeline for a question (or the answer to a trace's ask_user card) and return the stored trace."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "pipeline"

    @extend_schema(request=AskRequest, responses={201: TraceDetailSerializer})
    def post(self, request: Request) -> Response:
        _require(request, RUN)
        ask = AskRequest.model_validate(json_object(request))
        if ask.test_mode or ask.asset_overrides or ask.baseline_trace_id:
            _require(request, RUN, TEST_MODE)
        context = ExecutionContext(
            tenant_id=ask.tenant_id,
            question=ask.question,
            user_id=str(request.user.pk),
            test_mode=ask.test_mode,
            asset_overrides=ask.asset_overrides,
            baseline_trace_id=ask.baseline_trace_id,
        )
        scope, drafts = scope_for(request.user), draft_scope_for(request.user)
        if ask.reply_to:
            trace = pipeline_reply(context=context, reply_to=ask.reply_to, session_id=ask.session_id, scope=scope,
                                   drafts=drafts)
        else:
            trace = pipeline_run(context=context, session_id=ask.session_id, scope=scope, drafts=drafts)
        body = TraceDetailSerializer(selectors.trace_get(trace_id=trace.trace_id, tenant=trace.tenant_id)).data
        return Response(body, status=status.HTTP_201_CREATED)


class StageTestView(APIView):
    """Re-run one stage in test mode and diff it against the baseline stage."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "pipeline"

    @extend_schema(request=StageTestRequest, responses={200: StageTestResultSerializer})
    def post(self, request: Request) -> Response:
        _require(request, RUN, TEST_MODE)
        body = StageTestRequest.model_validate(json_object(request))
        result = stage_rerun(
            stage=str(body.stage),
            trace_id=body.trace_id,
            question=body.question,
            tenant_id=body.tenant_id,
            # With a trace_id, an explicit tenant_id names the trace's tenant (ids are unique per tenant).
            trace_tenant=body.tenant_id if "tenant_id" in body.model_fields_set else "",
            asset_overrides=body.asset_overrides,
            user_id=str(request.user.pk),
            scope=scope_for(request.user),
            drafts=draft_scope_for(request.user),
        )
        return Response(StageTestResultSerializer({
            "stage": str(body.stage),
            "output": result.output.model_dump(mode="json"),
            "applied_assets": {t: a.ref for t, a in result.execution.applied.items()},
            "baseline": result.baseline,
            "baseline_output": result.baseline_output,
            "diff": result.diff,
        }).data)
