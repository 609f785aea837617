"""System checks that `manage.py check --deploy` runs before a production start."""
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_is_private(app_configs, **kwargs):
    """A key written in the repository (or in the example env file) signs sessions anyone could forge."""
    if settings.SECRET_KEY in settings.PUBLIC_SECRET_KEYS:
        return [Error("SECRET_KEY is a published key (the development key of sdi/settings.py or the example of "
                      "deploy/systemd/env.example): anyone can forge sessions and CSRF tokens with it",
                      hint="set SDI_SECRET_KEY to a long random value, e.g. python3 -c \"import secrets; "
                           "print(secrets.token_urlsafe(50))\"", id="sdi.E001")]
    return []
