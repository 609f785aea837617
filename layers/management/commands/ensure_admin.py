"""Create the first admin account if none exists (credentials from the environment, or generated once).

A generated password is never printed: this command's output ends up in `make run`'s log, a CI log or, in
production, the journal. It goes to a file only its owner can read (SDI_ADMIN_PASSWORD_FILE, default
.sdi/admin-password, git-ignored), and the command prints where that file is.
"""
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


def password_file() -> Path:
    return Path(os.environ.get("SDI_ADMIN_PASSWORD_FILE") or settings.BASE_DIR / ".sdi" / "admin-password")


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file readable by its owner only (mode 0600 even if the file already existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text + "\n")


class Command(BaseCommand):
    help = ("Create a superuser when none exists. Uses SDI_ADMIN_USER / SDI_ADMIN_PASSWORD / SDI_ADMIN_EMAIL; "
            "without a password one is generated and written to SDI_ADMIN_PASSWORD_FILE (default "
            ".sdi/admin-password, mode 0600), never printed.")

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("admin account exists")
            return
        username = os.environ.get("SDI_ADMIN_USER", "admin")
        given = os.environ.get("SDI_ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        if not given:
            try:
                write_private(password_file(), password)
            except OSError as exc:  # e.g. a read-only checkout in a container: start without an admin
                self.stderr.write(f"no admin account created: cannot write the generated password to "
                                  f"{password_file()} ({exc.strerror}). Set SDI_ADMIN_PASSWORD, or a writable "
                                  f"SDI_ADMIN_PASSWORD_FILE, or run manage.py createsuperuser")
                return
        User.objects.create_superuser(username, os.environ.get("SDI_ADMIN_EMAIL", ""), password)
        where = "from SDI_ADMIN_PASSWORD" if given else (
            f"generated, in {password_file()} (readable only by you): sign in, change it, then delete that file")
        self.stdout.write(self.style.WARNING(f"created admin account {username!r}; password {where}"))
