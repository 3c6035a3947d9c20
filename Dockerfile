# The project installed into the official Airflow image: every Airflow container (api-server,
# scheduler, dag-processor, triggerer, Celery workers) runs the same pipelines package.
FROM apache/airflow:3.3.2-python3.11

USER root
# Fonts with CJK glyphs for the publicity PDFs; tini comes with the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/dibao-audit/
COPY --chown=airflow:root pipelines /opt/dibao-audit/pipelines
COPY --chown=airflow:root config /opt/dibao-audit/config
COPY --chown=airflow:root sql /opt/dibao-audit/sql
COPY --chown=airflow:root expectations /opt/dibao-audit/expectations
# Keep the image's Airflow: the project pins the same version.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/dibao-audit

COPY --chown=airflow:root dags /opt/airflow/dags
