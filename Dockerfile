# cib-detector: the REST API (and the CLI) on a slim Python base, as a non-root user.
#   docker run -p 8000:8000 -v cib-data:/data IMAGE                 # the API on SQLite in /data
#   docker run -v cib-data:/data IMAGE keys create --scope read --name "Jane"
#   docker run -v cib-data:/data IMAGE demo                          # the demo job
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CIB_DATABASE_URL=sqlite:////data/cib.db CIB_MODEL=/app/models/scorer.joblib \
    MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --create-home --uid 10001 cib && mkdir /data && chown cib /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY detector ./detector
COPY api ./api
COPY models ./models
RUN pip install .

USER cib
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
ENTRYPOINT ["cib"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
