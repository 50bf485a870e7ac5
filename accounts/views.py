"""The customer's own account: profile and preferences, deletion (the data export, which is
mostly orders and SIMs, is ``orders.site.data_export``)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import DeleteAccountForm, ProfileForm
from accounts.models import CustomerProfile
from accounts.services import delete_account, update_profile
from core.phone import national_number


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    instance, _created = CustomerProfile.objects.get_or_create(user=request.user)
    form = ProfileForm(
        request.POST or None,
        instance=instance,
        initial={"phone": national_number(request.user.phone)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        update_profile(
            user=request.user,
            phone=data["phone"],
            language=data["preferred_language"],
            notify_by_email=data["notify_by_email"],
            notify_by_sms=data["notify_by_sms"],
        )
        translation.activate(data["preferred_language"])
        messages.success(request, _("Your settings are saved."))
        response = redirect("account_profile")
        response.set_cookie("django_language", data["preferred_language"], samesite="Lax")
        return response
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def delete(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        delete_account(user=request.user)
        logout(request)
        messages.success(request, _("Your account has been deleted."))
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})
