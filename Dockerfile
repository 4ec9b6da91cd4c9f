# Development image. docker-compose.yml bind-mounts the checkout over /app, and Django's
# development server reloads on every change; the production image is Dockerfile.prod.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# psql for `manage.py dbshell`; gettext for `manage.py compilemessages` and makemessages.
# Every Python requirement ships a wheel: no compiler needed.
# Unpinned on purpose (DL3008): Debian's stable updates are security fixes, and a pinned
# version disappears from the mirror as soon as one lands, breaking the build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The developer's own ids (docker-compose.yml passes DEV_UID/DEV_GID), so what the
# container writes into the bind-mounted checkout belongs to them, not to root.
ARG UID=1000
ARG GID=1000
RUN groupadd --gid "$GID" app \
 && useradd --uid "$UID" --gid app --create-home app \
 && mkdir -p /app/staticfiles \
 && chown app:app /app/staticfiles

COPY . .
# The translations, for the image on its own; with the checkout bind-mounted over /app,
# deploy/entrypoint.sh compiles the checkout's at start.
RUN python manage.py compilemessages --ignore .venv --verbosity 0
USER ${UID}:${GID}

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]
