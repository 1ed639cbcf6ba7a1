from django.apps import AppConfig


class RegressionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "regression"
