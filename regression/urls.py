from django.urls import path
from rest_framework.routers import SimpleRouter

from regression import api, suite_urls

router = SimpleRouter(trailing_slash=False)
router.register("inspector/regression/golden-queries", api.GoldenQueryViewSet, basename="golden-query")
router.register("inspector/regression/runs", api.RunViewSet, basename="regression-run")

urlpatterns = [
    path("inspector/regression/analyze", api.AnalyzeView.as_view(), name="regression-analyze"),
    path("inspector/regression/stage-compare", api.StageCompareView.as_view(), name="regression-stage-compare"),
    *router.urls,
    *suite_urls.urlpatterns,  # golden suites and their runs
    path("inspector/regression/<uuid:analysis_id>", api.AnalysisDetailView.as_view(), name="regression-analysis"),
]
