"""``manage.py grant_access alice --role operator --tenant acme``: roles and tenants for a user."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from access.services import access_grant
from kernel.errors import ServiceError


class Command(BaseCommand):
    help = "Add a user to role groups (viewer, operator, asset editor, publisher, admin) and tenants."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", default=[], help="repeatable; quote 'asset editor'")
        parser.add_argument("--tenant", action="append", default=[], help="repeatable")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        try:
            access_grant(user=user, roles=options["role"], tenants=options["tenant"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        groups = ", ".join(user.groups.order_by("name").values_list("name", flat=True)) or "no role"
        tenants = ", ".join(user.tenant_memberships.values_list("tenant_id", flat=True)) or "no tenant"
        self.stdout.write(f"{user.username}: {groups}; tenants: {tenants}")
