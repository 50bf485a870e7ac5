"""The customer's support pages: their conversations, a new one, a thread, and screenshots."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from support import services
from support.attachments import read_screenshot
from support.errors import SupportError
from support.forms import OpenForm, RatingForm, ReplyForm
from support.models import Attachment, Conversation

PER_PAGE = 20


@login_required
@require_GET
def conversation_list(request):
    """The customer's conversations, newest activity first."""
    rows = Conversation.objects.filter(customer=request.user).only(
        "subject",
        "category",
        "status",
        "last_message_at",
        "staff_replied_at",
        "read_by_customer_at",
        "customer_id",
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "support/list.html", {"page": page})


def _add_error(form, error: SupportError) -> None:
    field = form.fields.get(error.field)
    shown = field is not None and not field.widget.is_hidden
    form.add_error(error.field if shown else None, str(error.message))


@login_required
@require_http_methods(["GET", "POST"])
def open_conversation(request):
    """Ask support a question, pre-filled from an order, a SIM or a failed payment."""
    initial = {
        "order": request.GET.get("order", ""),
        "sim": request.GET.get("sim", ""),
        "category": request.GET.get("category", ""),
    }
    form = OpenForm(request.POST or None, request.FILES or None, initial=initial)
    reference = form["order"].value(), form["sim"].value()
    order = sim = problem = None
    try:
        order, sim = services.find_reference(
            customer=request.user, order_number=reference[0] or "", iccid=reference[1] or ""
        )
    except SupportError as error:
        problem = error.message
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conversation = services.open_conversation(
                customer=request.user,
                category=data["category"],
                subject=data["subject"],
                body=data["body"],
                order_number=data["order"],
                iccid=data["sim"],
                screenshots=data["screenshots"],
                language=request.LANGUAGE_CODE,
            )
        except SupportError as error:
            _add_error(form, error)
        else:
            messages.success(request, _("Your message was sent. We will answer here and by email."))
            return redirect("support:detail", conversation.pk)
    context = {"form": form, "order": order, "sim": sim, "problem": problem}
    return render(request, "support/open.html", context, status=400 if form.errors else 200)


def _own(request, pk) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related("order", "sim"), pk=pk, customer=request.user
    )


@login_required
@require_GET
def conversation_detail(request, pk: int):
    """The thread without staff's internal notes, a reply form, closing and rating."""
    conversation = _own(request, pk)
    return _render_detail(request, conversation, ReplyForm(), RatingForm())


def _render_detail(request, conversation, reply_form, rating_form, status=200):
    thread = conversation.messages.filter(internal=False).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.only("pk", "message_id"))
    )
    context = {
        "conversation": conversation,
        "thread": thread,
        "reply_form": reply_form,
        "rating_form": rating_form,
    }
    response = render(request, "support/detail.html", context, status=status)
    services.mark_read(conversation=conversation)
    return response


@login_required
@require_POST
def reply(request, pk: int):
    conversation = _own(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.customer_reply(
                conversation=conversation,
                customer=request.user,
                body=form.cleaned_data["body"],
                screenshots=form.cleaned_data["screenshots"],
            )
        except SupportError as error:
            _add_error(form, error)
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect("support:detail", conversation.pk)
    return _render_detail(request, conversation, form, RatingForm(), status=400)


@login_required
@require_POST
def close(request, pk: int):
    conversation = _own(request, pk)
    services.close(conversation=conversation, actor=request.user)
    messages.success(request, _("The conversation is closed. Reply any time to open it again."))
    return redirect("support:detail", conversation.pk)


@login_required
@require_POST
def rate(request, pk: int):
    conversation = _own(request, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rate(
                conversation=conversation,
                customer=request.user,
                score=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except SupportError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Thank you for your rating."))
        return redirect("support:detail", conversation.pk)
    return _render_detail(request, conversation, ReplyForm(), form, status=400)


@login_required
@require_GET
def screenshot(request, pk: int):
    """One of the customer's own screenshots (staff see them through the admin)."""
    attachment = get_object_or_404(Attachment, pk=pk, message__conversation__customer=request.user)
    response = HttpResponse(read_screenshot(attachment), content_type=attachment.content_type)
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = f'inline; filename="screenshot-{attachment.pk}.jpg"'
    return response
