"""The Celery settings the package runs with: ctworkflow's settings in Celery's lowercase keys.

The deployment's `celeryconfig.py` (the repository's top level) starts from these and overrides
what an operator changes; a process started from the installed package alone uses them as they are.
"""

from __future__ import annotations

from kombu import Exchange, Queue

from ctworkflow import constants
from ctworkflow.config import get_settings

_settings = get_settings()


def memory_limit_kib(limit_mb: int) -> int | None:
    """Celery's ``worker_max_memory_per_child`` (KiB, None for no limit) for a limit in MB."""
    return limit_mb * 1024 or None


broker_url = _settings.celery_broker_url
result_backend = _settings.celery_result_backend

# Each queue has its own exchange and routing key. A queue declared by name only is bound to the
# default queue's exchange and key, so every message would reach every queue.
task_queues = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name) for name in constants.QUEUES
)
task_default_queue = constants.ORCHESTRATION_QUEUE
task_routes = {
    **{name: {"queue": constants.COMPONENT_QUEUE} for name in constants.COMPONENT_TASKS},
    **{name: {"queue": constants.VERIFICATION_QUEUE} for name in constants.VERIFICATION_TASKS},
}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

# Every step is idempotent, so a message is acknowledged only once it has been processed, and
# a task whose worker died is handed to another worker.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
# A pool process that grew past the limit (a wide round's spawn or validation) is replaced once
# its task ends, instead of carrying that memory into every later task (billiard reads the
# process's peak, ru_maxrss).
worker_max_memory_per_child = memory_limit_kib(_settings.worker_max_memory_mb)
worker_hijack_root_logger = False

# Stopping a worker (Docker's SIGTERM, which the image remaps to SIGQUIT; or a second Ctrl+C):
# running tasks get as long as a component run's soft time limit, plus a minute to record how
# it ended, before they are cancelled and handed back to the queue; an idle worker hands its
# prefetched messages back at once. docker-compose.yml's stop_grace_period is longer still.
worker_soft_shutdown_timeout = _settings.component_soft_time_limit_s + 60
worker_enable_soft_shutdown_on_idle = True

# Flower: task events from workers, and sent events from producers.
worker_send_task_events = True
task_send_sent_event = True
task_track_started = True

result_expires = 7 * 24 * 3600
result_chord_join_timeout = 30.0
broker_connection_retry_on_startup = True

# A publish never blocks long: each connection attempt and broker command gives up after
# CTW_BROKER_TIMEOUT_S, and a publish is tried three times (a session start whose first
# wake-up could not be sent is queued for the reconciler: ctworkflow.services.lifecycle).
broker_connection_timeout = _settings.broker_timeout_s
task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1.0,
}


def transport_options(url: str) -> dict[str, object]:
    """Broker transport options that suit the transport of ``url``."""
    if url.startswith(("redis://", "rediss://")):
        return {
            "visibility_timeout": _settings.visibility_timeout_s,
            # A broker gone silent (stopped, failed over, a dropped connection) fails a
            # command after this long instead of blocking it forever (kombu's advice).
            "socket_timeout": _settings.broker_timeout_s,
            "socket_connect_timeout": _settings.broker_timeout_s,
            # Restore the messages of a dead worker in seconds, not kombu's ~100 s sweep.
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        }
    # kombu's SQLAlchemy transport hands every transport option to ``create_engine``, which
    # refuses the Redis ones; wait for a busy SQLite file instead of failing at once.
    return {"connect_args": {"timeout": 30}}


broker_transport_options = transport_options(broker_url)
result_backend_transport_options = {"visibility_timeout": _settings.visibility_timeout_s}

# The reconciler re-drives sessions whose wake-up was lost (run a beat: `celery beat` or `-B`).
# Beat writes its schedule file after every message it sends: the file's age is its health.
beat_sync_every = 1
beat_schedule = {
    "ctw-reconcile": {
        "task": constants.RECONCILE,
        "schedule": _settings.reconcile_interval_s,
        "options": {
            "queue": constants.ORCHESTRATION_QUEUE,
            "expires": _settings.reconcile_interval_s,
        },
    },
    # Webhook deliveries whose send was lost (the outbox is in the database).
    "ctw-webhooks": {
        "task": constants.SWEEP_WEBHOOKS,
        "schedule": _settings.webhook_sweep_interval_s,
        "options": {
            "queue": constants.ORCHESTRATION_QUEUE,
            "expires": _settings.webhook_sweep_interval_s,
        },
    },
}


#: Every Celery setting defined here: what the deployment's celeryconfig.py starts from.
__all__ = [
    "accept_content",
    "beat_schedule",
    "beat_sync_every",
    "broker_connection_retry_on_startup",
    "broker_connection_timeout",
    "broker_transport_options",
    "broker_url",
    "enable_utc",
    "result_backend",
    "result_backend_transport_options",
    "result_chord_join_timeout",
    "result_expires",
    "result_serializer",
    "task_acks_late",
    "task_default_queue",
    "task_publish_retry_policy",
    "task_queues",
    "task_reject_on_worker_lost",
    "task_routes",
    "task_send_sent_event",
    "task_serializer",
    "task_track_started",
    "timezone",
    "worker_enable_soft_shutdown_on_idle",
    "worker_hijack_root_logger",
    "worker_max_memory_per_child",
    "worker_prefetch_multiplier",
    "worker_send_task_events",
    "worker_soft_shutdown_timeout",
]
