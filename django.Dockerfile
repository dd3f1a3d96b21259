# syntax=docker/dockerfile:1
# The Django site, served by gunicorn. The socket.io browser client comes from the
# npm registry (package-lock.json), not a CDN. Python packages: django_app/requirements.txt,
# the same versions as the local lock, installed with --no-deps.
FROM node:20.18.1-bookworm-slim AS widget
WORKDIR /build
COPY django_app/package.json django_app/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.10.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1001 web && pip install --no-cache-dir pip==24.2
WORKDIR /app
COPY django_app/requirements.txt .
RUN pip install --no-cache-dir --no-deps -r requirements.txt && pip check
# What the site shares with the bots (token claims, limits) and the scripted bots' registry, installed
# as make installs the project (pyproject.toml finds only these two here; pure Python, no Rasa).
COPY pyproject.toml /build/
COPY chat_contract/ /build/chat_contract/
COPY scripted_bots/ /build/scripted_bots/
RUN pip install --no-cache-dir --no-deps --no-build-isolation /build && pip check && rm -rf /build
COPY django_app/ .
COPY --from=widget /build/node_modules ./node_modules
USER 1001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=4)"]
# Migrations and the bot registry (bots.yml: the demo bot, at RASA_SOCKET_URL) once per start;
# gunicorn serves (2 workers per core is a common start). Settings: config.settings.production.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_bots bots.yml --prune && exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-3} --access-logfile - --forwarded-allow-ips '*'"]
