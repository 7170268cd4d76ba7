"""The Celery layer: the tasks, thin doorways into ``ctworkflow.workflow`` and the services, and
the one dispatcher that builds every message (``ctworkflow.tasks.dispatch``).

Only the dispatcher (and the app it sends with) is imported from outside this package: the
services send through it. The task modules are loaded by the worker apps alone.
"""
