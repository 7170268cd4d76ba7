"""The Celery layer: thin doorways into ``ctworkflow.workflow``. Nothing else imports it."""
