"""Install version 1 of every reference pipeline asset (idempotent)."""

from django.core.management.base import BaseCommand

from kernel.tenancy import SHARED_TENANT
from reference.assets import reference_assets_install


class Command(BaseCommand):
    help = "Create and publish version 1 of each reference pipeline asset that is missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", default=SHARED_TENANT)

    def handle(self, *args, tenant: str, **options) -> None:
        created = reference_assets_install(tenant_id=tenant)
        self.stdout.write(self.style.SUCCESS(f"Reference assets ready ({created} created)."))
