"""The use cases: what the ``ctw`` program, the HTTP API and the Celery doorways call.

One module per concept; each function checks its input, works through units of work
(:mod:`ctworkflow.persistence`) and the adapters, and raises the typed errors of
:mod:`ctworkflow.errors`:

- :mod:`~ctworkflow.services.catalog`: accounts, projects and components;
- :mod:`~ctworkflow.services.discovery`: register the components found in a repository;
- :mod:`~ctworkflow.services.sessions`: session records inside one unit of work (create the one
  active session of a context, resolve an id prefix, move a status, cancel);
- :mod:`~ctworkflow.services.lifecycle`: start, cancel, retry and re-drive sessions, with their
  wake-ups sent after the commit;
- :mod:`~ctworkflow.services.session_views`: read a session, its children and their steps;
- :mod:`~ctworkflow.services.summary`: the summary that the status task, webhooks and HTTP share;
- :mod:`~ctworkflow.services.metrics`: the figures ``/metrics`` reports;
- :mod:`~ctworkflow.services.tokens`: API tokens;
- :mod:`~ctworkflow.services.webhooks` and :mod:`~ctworkflow.services.webhook_delivery`:
  webhooks, and sending their deliveries.

A backend service imports :mod:`ctworkflow.api`, the stable face of the session use cases.
"""
