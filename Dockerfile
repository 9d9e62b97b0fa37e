# paperbot: one image; `docker compose up` runs it beside Redis.
# Stage 1 builds the wheel, compiling the percolator's C kernel (bot/_percolate.c).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && python -c "import zipfile, glob; names = zipfile.ZipFile(glob.glob('/wheels/*.whl')[0]).namelist(); assert any(n.startswith('bot/_percolate') and n.endswith('.so') for n in names), 'C kernel not built'"

# Stage 2: the runtime, without a compiler.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PAPERBOT_DATA_DIR=/data
RUN useradd --create-home --uid 10001 paperbot && mkdir /data && chown paperbot /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER paperbot
VOLUME ["/data"]
# Unhealthy when a source has not been polled for three of its intervals (stuck or stopped).
HEALTHCHECK --interval=5m --timeout=60s --start-period=15m --retries=2 \
    CMD ["paperbot", "status", "--check"]
ENTRYPOINT ["paperbot"]
CMD ["run"]
