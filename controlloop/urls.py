from django.urls import path
from rest_framework.routers import SimpleRouter

from controlloop import api

router = SimpleRouter(trailing_slash=False)
router.register("controlloop/policies", api.ReplanPolicyViewSet, basename="replan-policy")

urlpatterns = [
    path("controlloop/decide", api.DecideView.as_view(), name="controlloop-decide"),
    path("controlloop/events", api.ReplanEventListView.as_view(), name="controlloop-events"),
    *router.urls,
]
