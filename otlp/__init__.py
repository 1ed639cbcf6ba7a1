"""OpenTelemetry's door in: OTLP/HTTP trace exports become stored traces (docs/otlp.md)."""
