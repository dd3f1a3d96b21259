# syntax=docker/dockerfile:1
# The Rasa server (and the one-shot `train` service). One file, two images:
#   docker build -f rasa.Dockerfile .                          CPU (default)
#   docker build -f rasa.Dockerfile --build-arg VARIANT=gpu .  NVIDIA GPU
# TensorFlow 2.12 is built against CUDA 11.8 and cuDNN 8.6, so the GPU image starts
# from NVIDIA's CUDA 11.8 runtime and pins cuDNN 8.6 (run with --gpus all and
# RASA_CONFIG=config-gpu.yml to train DIET/TED on it). Both install exactly the
# versions of requirements_rasa.txt (the lock the local .venv uses) with --no-deps.
ARG VARIANT=cpu

FROM python:3.10.13-slim-bookworm AS base-cpu

FROM nvidia/cuda:11.8.0-runtime-ubuntu22.04 AS base-gpu
# Ubuntu 22.04's python3.10 (Rasa 3.6 needs <3.11) and cuDNN 8.6 for CUDA 11.8 from NVIDIA's repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.10=3.10.12-1~22.04.* python3.10-venv=3.10.12-1~22.04.* \
       libcudnn8=8.6.0.163-1+cuda11.8 \
    && apt-mark hold libcudnn8 \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/bin/python3.10 /usr/local/bin/python

# hadolint ignore=DL3006
FROM base-${VARIANT}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN useradd --create-home --uid 1001 rasa && mkdir /models && chown 1001 /models \
    && python -m venv /opt/venv && pip install --no-cache-dir pip==24.2
WORKDIR /app
COPY requirements_rasa.txt .
RUN pip install --no-cache-dir --no-deps -r requirements_rasa.txt && pip check

COPY pyproject.toml .
COPY process_data/ process_data/
COPY chat_contract/ chat_contract/
COPY rasa_bot/ rasa_bot/
# The project as a package, as make installs it: Rasa's configs name rasa_bot.channels.…, rasa_bot.stores.…
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check && chown -R 1001:1001 rasa_bot
WORKDIR /app/rasa_bot
USER 1001

ENV RASA_CONFIG=config.yml \
    RASA_CACHE_DIRECTORY=/models/.cache
EXPOSE 5005
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=12 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:5005/', timeout=4)"]
CMD ["rasa", "run", "--model", "/models/current.tar.gz", "--endpoints", "endpoints-scale.yml", \
     "--credentials", "credentials.yml", "--port", "5005"]
