from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from opsproject.health import healthz, readyz

# A URL no route matches (e.g. an id the router's pattern refuses) answers JSON like the API.
handler404 = "opsproject.errors.not_found"

admin.site.site_header = "OPS Inspector"
admin.site.site_title = "OPS Inspector"
admin.site.index_title = "Traces, assets and analyses"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),  # liveness
    path("readyz", readyz, name="readyz"),  # readiness: database and broker
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("regression.urls")),
    path("", include("inspector.urls")),
    path("", include("controlloop.urls")),
    path("", include("impact.urls")),
    path("", include("otlp.urls")),
]
