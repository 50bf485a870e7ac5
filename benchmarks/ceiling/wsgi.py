"""WSGI entry of the ceiling app (gunicorn benchmarks.ceiling.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.ceiling.settings")
application = get_wsgi_application()
