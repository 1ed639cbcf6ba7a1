from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from home.views import admin_home
from opsproject.health import healthz, readyz

# A URL no route matches (e.g. an id the router's pattern refuses) answers JSON like the API.
handler404 = "opsproject.errors.not_found"

admin.site.site_header = "OPS Inspector"
admin.site.site_title = "OPS Inspector"
admin.site.index_title = "Traces, assets and analyses"


class FaviconView(RedirectView):
    """``/favicon.ico``, which browsers ask for on pages without an icon link, is the static icon."""

    permanent = False  # the static URL carries a hash in production; a cached 301 would outlive it

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.ico")


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    # The admin index with the four screens and the day's figures (home/views.py); the rest is Django's.
    path("admin/", admin_home, name="admin-home"),
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
