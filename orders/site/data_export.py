"""The customer's data export (``/account/export/``): the account, its orders and SIMs."""

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from orders.services.customer_data import export_customer_data


@login_required
@require_POST
def export(request):
    data = json.dumps(
        export_customer_data(request.user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False
    )
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response
