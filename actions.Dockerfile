# syntax=docker/dockerfile:1
# The action server: rasa-sdk and the project's actions (no TensorFlow), from
# requirements_actions.txt, whose versions are those of requirements_rasa.txt; process_data
# for the answers from past conversations (the reply index the train service builds).
FROM python:3.10.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1001 actions && pip install --no-cache-dir pip==24.2
WORKDIR /app
COPY requirements_actions.txt .
RUN pip install --no-cache-dir --no-deps -r requirements_actions.txt && pip check

COPY pyproject.toml .
COPY rasa_bot/__init__.py rasa_bot/
COPY rasa_bot/actions/ rasa_bot/actions/
COPY process_data/ process_data/
# The project as a package (here rasa_bot.actions and process_data), as make installs it: --actions rasa_bot.actions
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check
USER 1001
EXPOSE 5055
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:5055/health', timeout=4)"]
CMD ["python", "-m", "rasa_sdk", "--actions", "rasa_bot.actions", "--port", "5055"]
