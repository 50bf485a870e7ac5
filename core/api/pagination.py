from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """Stable cursor pages, newest first; ``?page_size=`` up to 200."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
