# The Rasa server and the action server (same image, different command).
# CPU build. Installs exactly the locked versions the local .venv uses.
FROM python:3.10.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1001 rasa && mkdir /data && chown rasa /data
WORKDIR /app
COPY requirements_rasa.txt .
RUN pip install --no-cache-dir -r requirements_rasa.txt && pip check

COPY process_data/ process_data/
COPY rasa_bot/ rasa_bot/
RUN mkdir -p rasa_bot/models && chown -R rasa:rasa rasa_bot
WORKDIR /app/rasa_bot
USER rasa

EXPOSE 5005 5055
CMD ["rasa", "run", "--model", "models", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--port", "5005"]
