# cib-detector: the REST API (and the CLI) on a slim Python base, as a non-root user.
#   docker build -t cib .                                           # the service image
#   docker run -p 8000:8000 -v cib-data:/data cib                   # the API on SQLite in /data
#   docker run -v cib-data:/data cib keys create --scope read --name "Jane"
#   docker run -v cib-data:/data cib demo                           # the demo job
#   docker build --target test -t cib-test . && docker run cib-test # README's test command
# tests/test_dockerfile.py runs this file's steps in a fresh virtual environment and lints it.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CIB_DATABASE_URL=sqlite:////data/cib.db CIB_MODEL=/app/models/scorer.joblib \
    MPLCONFIGDIR=/tmp/matplotlib PATH=/opt/venv/bin:$PATH

RUN useradd --create-home --uid 10001 --user-group cib && mkdir /data && chown 10001:10001 /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY detector ./detector
COPY api ./api
COPY models ./models
# README's first command, in a virtual environment owned by root (the service cannot change its
# own code); the demo job runs once on a scratch database to prove the image works
RUN python -m venv /opt/venv
RUN pip install -e . && cib demo --db /tmp/demo.db && rm -f /tmp/demo.db*

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["cib"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

# README's second command, with what the tests read; browser tests use Debian's chromium
FROM app AS test
USER 0
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
COPY tests ./tests
COPY notebooks ./notebooks
COPY bench ./bench
RUN pip install -e '.[test]' && chown -R 10001:10001 /app /opt/venv
USER 10001:10001
ENTRYPOINT []
CMD ["sh", "-c", "pip install -e '.[test]' && python -m pytest -q"]
