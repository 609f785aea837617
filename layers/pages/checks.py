"""System check: the leaders' panels file can be read, so a wrong key shows at `manage.py check` (and `make run`'s
migrate) rather than as a 500 on the first director's visit."""
from django.conf import settings
from django.core.checks import Error, register

from layers.pages.leaders import PanelsInvalid, read_panels


@register()
def leaders_panels_readable(app_configs, **kwargs):
    try:
        read_panels(settings.SDI_LEADERS_PANELS)
    except (OSError, PanelsInvalid) as exc:
        return [Error(str(exc), hint="fix the file (its header lists the keys) or set SDI_LEADERS_PANELS",
                      id="pages.E001")]
    return []
