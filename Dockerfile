# The AlertSync operator image: `alertsync run`, as a non-root user.
#
#   docker build -t ghcr.io/alertsync/alertsync:0.1.0 .
#
# The build stage installs the project into a virtualenv; the final stage copies
# only that virtualenv (no sources, no pip cache).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/alertsync
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN /opt/alertsync/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/alertsync/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/alertsync /opt/alertsync
# Any non-root uid works; 65532 is the conventional "nonroot" one. The chart and
# deploy/ run it with a read-only root filesystem and a writable /tmp.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["alertsync", "run"]
