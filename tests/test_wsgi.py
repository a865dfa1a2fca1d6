"""The WSGI module, as gunicorn `--preload` loads it before forking: the views are imported and the loaded objects
are frozen out of the cyclic collector's reach (carnet/wsgi.py). In a child process: freezing is process-wide."""

import os
import subprocess
import sys

CHECK = """
import gc, sys
assert gc.get_freeze_count() == 0
import carnet.wsgi
assert "carnet.fhir.views" in sys.modules and "carnet.portal.views" in sys.modules, "the URLconf was not loaded"
assert gc.get_freeze_count() > 10000, gc.get_freeze_count()
print("ok")
"""


def test_the_wsgi_module_loads_every_view_then_freezes_what_it_loaded():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carnet.settings"}
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
