# paperbot: one image; `docker compose up` runs it beside Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PAPERBOT_DATA_DIR=/data
RUN useradd --create-home --uid 10001 paperbot && mkdir /data && chown paperbot /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip install --no-cache-dir .
USER paperbot
VOLUME ["/data"]
# Unhealthy when a source has not been polled for three of its intervals (stuck or stopped).
HEALTHCHECK --interval=5m --timeout=60s --start-period=15m --retries=2 \
    CMD ["paperbot", "status", "--check"]
ENTRYPOINT ["paperbot"]
CMD ["run"]
