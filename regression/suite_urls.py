"""The golden-suite paths under ``/inspector/regression`` (included by ``regression/urls.py``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from regression import suite_api

router = SimpleRouter(trailing_slash=False)
router.register("inspector/regression/suites", suite_api.SuiteViewSet, basename="suite")

_items = suite_api.SuiteItemViewSet

urlpatterns = [
    *router.urls,
    path("inspector/regression/suites/<str:id>/items", _items.as_view({"get": "list", "post": "create"}),
         name="suite-item-list"),
    path("inspector/regression/suites/<str:id>/items/<str:item_id>",
         _items.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
         name="suite-item-detail"),
    path("inspector/regression/suite-runs/<str:run_id>", suite_api.SuiteRunDetailView.as_view(),
         name="suite-run-detail"),
]
