from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "sdi.security"
    label = "sdi_security"

    def ready(self):
        from sdi.security import checks  # noqa: F401 (registers the system checks)
