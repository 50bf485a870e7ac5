from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class CheckedCursorPagination(CursorPagination):
    """Cursor pages whose cursor position must be a value of the ordering's first field: a
    cursor made up with another value is an invalid cursor (404), never a server error."""

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            except FieldDoesNotExist:  # an annotation: compared as the database compares it
                return cursor
            try:
                field.to_python(cursor.position)
            except (ValidationError, ValueError, OverflowError) as error:
                raise NotFound(self.invalid_cursor_message) from error
        return cursor


class NewestFirstPagination(CheckedCursorPagination):
    """Stable cursor pages, newest first; ``?page_size=`` up to 200."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
