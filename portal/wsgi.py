"""
WSGI config for portal project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# bin/dev sets JOBS_IN_PROCESS: the job schedule then runs in a thread of this process, the
# one that serves (docs/jobs.md). Everywhere else this does nothing.
from portal.celery_app import start_in_process_scheduler  # noqa: E402

start_in_process_scheduler()
