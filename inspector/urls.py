from django.urls import path
from rest_framework.routers import SimpleRouter

from inspector import api, pipeline_api

router = SimpleRouter(trailing_slash=False)
router.register("asset-registry/assets", api.AssetViewSet, basename="asset")

urlpatterns = [
    path("inspector/traces", api.TraceListCreateView.as_view(), name="trace-list"),
    path("inspector/traces/<str:trace_id>", api.TraceDetailView.as_view(), name="trace-detail"),
    path("inspector/traces/<str:trace_id>/diff", api.TraceDiffView.as_view(), name="trace-diff"),
    path("inspector/traces/<str:trace_id>/stages/<str:stage>", api.TraceStageView.as_view(), name="trace-stage"),
    path("ops/ask", pipeline_api.AskView.as_view(), name="ops-ask"),
    path("ops/stage-test", pipeline_api.StageTestView.as_view(), name="ops-stage-test"),
    *router.urls,
]
