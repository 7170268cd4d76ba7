FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ctworkflow ctworkflow
# pytest: the workers run the tests they write (the pytest runner uses this interpreter).
RUN pip install --no-cache-dir . pytest
