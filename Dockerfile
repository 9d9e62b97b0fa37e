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
ENTRYPOINT ["paperbot"]
CMD ["run"]
