"""Create (or reset) the demo superuser and print its login."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo superuser (DEMO_ADMIN_USER / DEMO_ADMIN_PASSWORD, default admin/admin) and print the login."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}  →  http://127.0.0.1:8000/admin/"))
