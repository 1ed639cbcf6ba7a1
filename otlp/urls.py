from django.urls import path

from otlp.api import OtlpTracesView

urlpatterns = [
    # The path OTLP/HTTP exporters post to (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces).
    path("v1/traces", OtlpTracesView.as_view(), name="otlp-traces"),
]
