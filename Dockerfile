# cib-detector: the CLI (and, later, the API) on a slim Python base, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CIB_DATABASE_URL=sqlite:////data/cib.db

RUN useradd --create-home --uid 10001 cib && mkdir /data && chown cib /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY detector ./detector
COPY api ./api
RUN pip install .

USER cib
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD cib stats --json > /dev/null || exit 1
ENTRYPOINT ["cib"]
CMD ["demo"]
