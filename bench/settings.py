"""The portal's settings plus the benchmark's URLconf (bench/urls.py): what `bench/run`
gives gunicorn and itself as DJANGO_SETTINGS_MODULE. Nothing else differs."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
