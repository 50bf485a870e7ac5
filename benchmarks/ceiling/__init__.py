"""The framework's ceiling: the smallest Django/DRF/Celery app on the portal's PostgreSQL
and Redis."""
