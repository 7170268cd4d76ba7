"""Celery's configuration for ctworkflow's workers, beat and Flower.

The deployment's apps (``celery -A workers.orchestration``, ``workers.components``,
``workers.control``) load this module by name: it is the one place an operator reads or
overrides a Celery setting. It starts from the settings ctworkflow derives from its ``CTW_*``
variables (``ctworkflow/celery_defaults.py``: broker, queues and routes, late acknowledgement,
soft shutdown, beat schedule); assign any Celery setting below it to override one, for example::

    worker_max_tasks_per_child = 200

The installed package runs without this file, on those defaults alone (``ctw worker``,
``ctw demo``).
"""

from __future__ import annotations

from ctworkflow.celery_defaults import *  # noqa: F403  (the defaults, overridden below)

# Overrides of this deployment go here.
