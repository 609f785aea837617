"""Failed sign-in limits on top of django-axes: a second limit per address, and the 429 answer."""
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler, plus a limit per address over all accounts.

    axes counts failures per account+address (AXES_LOCKOUT_PARAMETERS) against AXES_FAILURE_LIMIT. Someone who
    tries a few passwords on each of many accounts never reaches that limit, and every try costs a password hash;
    so an address is also locked after SDI_LOGIN_ADDRESS_FAILURE_LIMIT failures, whatever the accounts.
    """

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        if failures < settings.AXES_FAILURE_LIMIT and \
                self.address_failures(request) >= settings.SDI_LOGIN_ADDRESS_FAILURE_LIMIT:
            return settings.AXES_FAILURE_LIMIT  # axes compares this one number with its limit
        return failures

    @staticmethod
    def address_failures(request) -> int:
        recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address,
                                              attempt_time__gte=get_cool_off_threshold(request))
        return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with Retry-After (AXES_LOCKOUT_CALLABLE): {"detail": …} on /api/, a plain sentence on the admin.

    The answer names neither the account nor the address, and costs no password check.
    """
    seconds = int(get_cool_off(request).total_seconds())
    message = (f"too many failed sign-ins from your address: try again in {max(1, round(seconds / 60))} minutes, "
               f"or ask an administrator to unlock it")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response
