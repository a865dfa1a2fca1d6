"""The WSGI application. Loaded once before the web server forks its workers (gunicorn `--preload`): the URL
configuration, so every view module, is imported here too, and what is loaded by then is frozen out of the cyclic
garbage collector's reach (`gc.freeze`): each worker's full collections then walk only what requests made, not the
whole of Django and the app again (bench/README.md), and the pages the workers share stay shared."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402  (after the settings are set up)

get_resolver().url_patterns  # noqa: B018  (imports the URL configuration and every view it names)
gc.freeze()
