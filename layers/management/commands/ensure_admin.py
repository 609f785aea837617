"""Create the first admin account if none exists (credentials from the environment, or generated once)."""
import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Create a superuser when none exists. Uses SDI_ADMIN_USER / SDI_ADMIN_PASSWORD / SDI_ADMIN_EMAIL; "
            "without a password one is generated and printed once.")

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("admin account exists")
            return
        username = os.environ.get("SDI_ADMIN_USER", "admin")
        password = os.environ.get("SDI_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username, os.environ.get("SDI_ADMIN_EMAIL", ""), password)
        shown = password if not os.environ.get("SDI_ADMIN_PASSWORD") else "(from SDI_ADMIN_PASSWORD)"
        self.stdout.write(self.style.WARNING(f"created admin account: user {username!r}, password {shown} — shown once"))
