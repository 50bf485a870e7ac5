"""Celery's configuration from Django's ``CELERY_*`` settings, read once into a plain dict.

``CELERY_BROKER_URL`` becomes ``broker_url``, as Celery's ``namespace="CELERY"`` does. Celery
looks several settings up on every task it sends and runs; through Django's lazy settings object
each one not set there was looked for under four names, each an exception raised and caught
(about 60 us of the 400 a task's sending costs). ``portal.celery`` names this module, so it is
read when Celery first needs its configuration, as the settings object was.
"""

from django.conf import settings

PREFIX = "CELERY_"

config = {
    name.removeprefix(PREFIX).lower(): getattr(settings, name)
    for name in dir(settings)
    if name.startswith(PREFIX)
}
