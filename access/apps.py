from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles_after_migrate(sender, using="default", **kwargs) -> None:
    # `flush` empties the tables and then emits post_migrate, as after a migrate: Django re-creates its
    # permissions then, and the role groups come back with them (a migration first made them). The roles
    # name only permissions of apps listed before this one, whose permissions exist by this app's turn.
    from access.roles import roles_install

    roles_install(strict=False)


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access: roles and tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from access.signals import connect

        connect()
        post_migrate.connect(_roles_after_migrate, sender=self, dispatch_uid="access.roles_after_migrate")
