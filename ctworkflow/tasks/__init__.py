"""The Celery layer: the tasks, thin doorways into ``ctworkflow.workflow`` and the services, and
the one dispatcher that builds every message (``ctworkflow.tasks.dispatch``).

The services import the dispatcher only (and, through it, the app it sends with); the task
modules are loaded by the worker apps (``ctworkflow.workers``) alone, and the HTTP metrics read
queue depths (``ctworkflow.tasks.queues``).
"""
