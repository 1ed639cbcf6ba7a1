from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles_after_migrate(sender, using="default", **kwargs) -> None:
    # `flush` empties the tables and then emits post_migrate, as after a migrate: Django re-creates each
    # app's permissions at that app's turn, and the role groups come back with them (a migration first
    # made them). Installed at the last app's turn, when every app's permissions exist: the roles also
    # name apps listed after this one (otlp).
    from django.apps import apps

    # Django signals only apps with a models module (reference has none).
    if sender is not [config for config in apps.get_app_configs() if config.models_module is not None][-1]:
        return
    from access.roles import roles_install

    roles_install(strict=False)


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access: roles and tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from access.signals import connect

        connect()
        post_migrate.connect(_roles_after_migrate, dispatch_uid="access.roles_after_migrate")
