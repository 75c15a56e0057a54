# The AlertSync operator image: `alertsync run`, as a non-root user.
#
#   docker build -t ghcr.io/alertsync/alertsync:0.1.0 .
#
# The build stage installs the operator into a virtualenv; the final stage copies
# only that virtualenv (no sources, no pip cache). The image holds the operator
# alone: the sandbox (operator/alertsim: simulators, emulator, demo) and the
# `sandbox` / `dev` extras are never copied or installed.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/alertsync
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
# Package discovery finds what is under operator/: copying only alertsync keeps the
# sandbox package out of the install.
COPY operator/alertsync/ operator/alertsync/
RUN /opt/alertsync/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/alertsync/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/alertsync /opt/alertsync
# Any non-root uid works; 65532 is the conventional "nonroot" one. The chart and
# deploy/ run it with a read-only root filesystem and a writable /tmp.
USER 65532:65532
# 8080 health (kopf's liveness), 8081 Prometheus /metrics, 8082 the reconcile API
# (served only when ALERTSYNC_API_LISTEN is set); docs/configuration.md.
EXPOSE 8080 8081 8082
ENTRYPOINT ["alertsync", "run"]
