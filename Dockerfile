# syntax=docker/dockerfile:1
# One image for every ctworkflow service (docker-compose.yml): workers, beat, Flower, the API,
# and one-shot commands. tests/test_compose.py checks it against the code.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ctworkflow ctworkflow
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm

# git and an ssh client: workers clone and push over https or ssh (git@host:owner/repo.git).
# The sandbox of agents, test runs and parse runs (CTW_SANDBOX=bubblewrap, docs/security.md):
# bubblewrap (prlimit is in util-linux, always there); the containers that use it need the
# namespace system calls (docker-compose.yml, x-sandbox).
ARG SANDBOX_PACKAGES="bubblewrap"
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
        ${SANDBOX_PACKAGES} \
    && rm -rf /var/lib/apt/lists/*

# Every dependency pinned and hashed (make lock writes requirements.lock); then our wheel alone.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

# The deployment's entry points, thin over the package: the Celery apps (celery -A workers.<kind>)
# and celeryconfig.py, the Celery settings an operator overrides (mount another one over it).
COPY celeryconfig.py /opt/ctworkflow/
COPY workers /opt/ctworkflow/workers
ENV PYTHONPATH=/opt/ctworkflow

# A user of its own: Celery refuses nothing as root, but a worker runs other people's code.
RUN useradd --create-home --uid 10001 --user-group ctw \
    && mkdir -p /var/lib/ctworkflow /var/lib/flower \
    && chown ctw:ctw /var/lib/ctworkflow /var/lib/flower
USER 10001:10001
WORKDIR /var/lib/ctworkflow
ENV CTW_DATA_DIR=/var/lib/ctworkflow \
    PYTHONUNBUFFERED=1 \
    # Docker stops a container with SIGTERM: make it Celery's soft shutdown, which gives running
    # tasks worker_soft_shutdown_timeout (celeryconfig) to end, then hands them back to the queue.
    REMAP_SIGTERM=SIGQUIT

# The default command is a component worker; compose runs the others from this same image.
CMD ["celery", "-A", "workers.components", "worker", "-Q", "ctw.components", "--hostname", "components@%h"]
HEALTHCHECK --interval=30s --timeout=20s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "celery -A workers.control inspect ping --destination components@${HOSTNAME} --timeout 10"]
