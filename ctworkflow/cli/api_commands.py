"""``ctw serve``, ``ctw token`` and ``ctw webhook``: the HTTP API, its tokens, its webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ctworkflow.cli import options
from ctworkflow.domain.inputs import parse_id

if TYPE_CHECKING:
    from ctworkflow.domain.tokens import ApiToken
    from ctworkflow.domain.webhooks import Delivery, Webhook

# The database, the web server and rich load inside the commands: ``--help`` needs none of them.

token_app = typer.Typer(no_args_is_help=True, help="API tokens of an account.")
webhook_app = typer.Typer(no_args_is_help=True, help="Webhooks of a project.")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-* from --forwarded-allow-ips.")
    ] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Proxies trusted for X-Forwarded-* headers.")
    ] = "127.0.0.1",
) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs), the web view (/ui) and /metrics."""
    import uvicorn

    from ctworkflow import logs
    from ctworkflow.config import get_settings

    # A service: INFO unless CTW_LOG_LEVEL says otherwise; uvicorn's loggers use our handler.
    level = logs.configure(get_settings(), default=logs.SERVICE_LEVEL)
    uvicorn.run(
        "ctworkflow.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        log_level=level.lower(),
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def _token_json(token: ApiToken) -> dict[str, object]:
    return {
        "id": str(token.id),
        "name": token.name,
        "account_id": str(token.account_id),
        "project_id": str(token.project_id) if token.project_id else None,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


@token_app.command("create")
def token_create(
    name: str,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Create an API token of the account (of one project with --project); print its secret.

    The secret is shown this once: only its hash is kept.
    """
    from ctworkflow.cli import render
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog, tokens

    owner = options.resolve_account(account)
    with unit_of_work() as uow:
        project_id = catalog.find_project(uow, owner.id, project).id if project else None
        token, secret = tokens.create_token(uow, owner.id, name, project_id=project_id)
    if as_json:
        render.print_json({**_token_json(token), "secret": secret})
        return
    typer.echo(secret)
    typer.echo(f"token {token.id}: keep the secret above, it is not shown again", err=True)


@token_app.command("list")
def token_list(account: options.Account = None, as_json: options.Json = False) -> None:
    """List the account's tokens (never their secrets)."""
    from ctworkflow.cli import render
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import tokens

    owner = options.resolve_account(account)
    with unit_of_work() as uow:
        found = tokens.list_tokens(uow, owner.id)
    lines = [
        f"{t.id}  {t.prefix}…  {t.name}  "
        f"{'revoked ' + t.revoked_at.isoformat() if t.revoked_at else 'live'}"
        + (f"  project {t.project_id}" if t.project_id else "")
        for t in found
    ]
    render.emit(as_json, [_token_json(t) for t in found], "\n".join(lines) or "no token")


@token_app.command("revoke")
def token_revoke(token_id: str, account: options.Account = None) -> None:
    """Revoke a token of the account: it is refused from now on."""
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import tokens

    owner = options.resolve_account(account)
    with unit_of_work() as uow:
        token = tokens.revoke_token(uow, owner.id, parse_id(token_id, "token id"))
    typer.echo(f"revoked {token.id}")


def _webhook_json(webhook: Webhook) -> dict[str, object]:
    return {
        "id": str(webhook.id),
        "url": webhook.url,
        "component_events": webhook.component_events,
        "created_at": webhook.created_at.isoformat(),
    }


def _delivery_json(delivery: Delivery) -> dict[str, object]:
    return {
        "id": str(delivery.id),
        "webhook_id": str(delivery.webhook_id),
        "session_id": str(delivery.session_id),
        "event": delivery.event,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


@webhook_app.command("create")
def webhook_create(
    url: str,
    component_events: Annotated[
        bool, typer.Option(help="Also send each component session's end.")
    ] = False,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Send the project's session events to URL (https, or http to loopback); print the secret."""
    from ctworkflow.cli import render
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import webhooks

    scope = options.resolve_scope(account, project)
    with unit_of_work() as uow:
        webhook, secret = webhooks.create_webhook(
            uow, scope, url, component_events=component_events
        )
    if as_json:
        render.print_json({**_webhook_json(webhook), "secret": secret})
        return
    typer.echo(secret)
    typer.echo(f"webhook {webhook.id}: verify deliveries with the secret above", err=True)


@webhook_app.command("list")
def webhook_list(
    account: options.Account = None, project: options.Project = None, as_json: options.Json = False
) -> None:
    """List the project's webhooks."""
    from ctworkflow.cli import render
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import webhooks

    scope = options.resolve_scope(account, project)
    with unit_of_work() as uow:
        found = webhooks.list_webhooks(uow, scope)
    lines = [f"{w.id}  {w.url}{'  +components' if w.component_events else ''}" for w in found]
    render.emit(as_json, [_webhook_json(w) for w in found], "\n".join(lines) or "no webhook")


@webhook_app.command("delete")
def webhook_delete(
    webhook_id: str, account: options.Account = None, project: options.Project = None
) -> None:
    """Stop sending to a webhook."""
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import webhooks

    scope = options.resolve_scope(account, project)
    with unit_of_work() as uow:
        webhooks.delete_webhook(uow, scope, parse_id(webhook_id, "webhook id"))
    typer.echo(f"deleted {webhook_id}")


@webhook_app.command("deliveries")
def webhook_deliveries(
    webhook_id: Annotated[str | None, typer.Argument(help="Only this webhook's.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """The project's webhook deliveries, newest first: status, attempts, last error."""
    from ctworkflow.cli import render
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import webhooks

    scope = options.resolve_scope(account, project)
    wanted = parse_id(webhook_id, "webhook id") if webhook_id else None
    with unit_of_work() as uow:
        found = webhooks.list_deliveries(uow, scope, webhook_id=wanted, limit=limit)
    lines = [
        f"{d.id}  {d.event}  {d.status.value}  attempts {d.attempts}"
        + (f"  {d.last_error}" if d.last_error else "")
        for d in found
    ]
    render.emit(as_json, [_delivery_json(d) for d in found], "\n".join(lines) or "no delivery")


def register(app: typer.Typer) -> None:
    """Add these commands to the program."""
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(webhook_app, name="webhook")
