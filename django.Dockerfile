# The Django site. The socket.io browser client comes from the npm registry (lock file), not a CDN.
FROM node:20-slim AS widget
WORKDIR /build
COPY django_app/package.json django_app/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.10.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 1001 web && mkdir /data && chown web /data
WORKDIR /app
COPY django_app/requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && pip check
COPY django_app/ .
COPY --from=widget /build/node_modules ./node_modules
USER web
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py runserver 0.0.0.0:8000 --noreload"]
