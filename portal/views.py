from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from plans.models import Operator


def home(request):
    """The landing page: the operators we sell for."""
    operators = Operator.objects.filter(supports_esim=True) | Operator.objects.filter(
        supports_recharge=True
    )
    return render(request, "portal/home.html", {"operators": operators.distinct()})


@never_cache
def health(request):
    """Liveness and database check for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
