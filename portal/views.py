from django.shortcuts import render
from django.views import defaults

from plans.models import Operator
from portal.api.errors import json_not_found

API_PREFIX = "/api/"


def home(request):
    """The landing page: the operators we sell for."""
    operators = Operator.objects.filter(supports_esim=True) | Operator.objects.filter(
        supports_recharge=True
    )
    return render(request, "portal/home.html", {"operators": operators.distinct()})


def page_not_found(request, exception):
    """The 404 page; under /api/ (any version, any path) the API's JSON error body instead."""
    if request.path.startswith(API_PREFIX):
        return json_not_found(request)
    return defaults.page_not_found(request, exception)
