"""The `edgeloop` command: serve, api, grpc, worker, migrate, bots, keys, status, archive."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from core.errors import EdgeloopError
from core.logs import configure_logging
from core.schemas.resources import KeyRead
from core.schemas.timefmt import ms_to_rfc3339, rfc3339_to_ms
from core.services import archive as archive_service
from core.services import bots as bot_service
from core.services import status as status_service
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import ensure_migrated, upgrade

# Help texts are plain text: with Rich markup, `[a-z0-9]` in the bot id pattern and `[from, to]` in `archive
# restore` were read as style tags and vanished from --help.
app = typer.Typer(help="edgeloop: learning-as-a-service for trading bots.", no_args_is_help=True, rich_markup_mode=None)
bots_app = typer.Typer(help="Manage bots.", no_args_is_help=True, rich_markup_mode=None)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(bots_app, name="bots")
app.add_typer(keys_app, name="keys")
archive_app = typer.Typer(
    help="Parquet archives of expired events (EDGELOOP_ARCHIVE_DIR).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(archive_app, name="archive")

T = TypeVar("T")


def _fail(message: str) -> None:
    typer.echo(f"edgeloop: {message}", err=True)
    raise typer.Exit(1)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus CLI flags; one clear line and exit 1 if they are invalid."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"invalid setting EDGELOOP_{str(first['loc'][0]).upper()}: {first['msg']}")
        raise
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _debug() -> bool:
    return os.environ.get("EDGELOOP_LOG_LEVEL", "").lower() == "debug"


def startup_hint(exc: BaseException, settings: Settings) -> str:
    """One line saying what went wrong at start-up and what to do about it."""
    url = make_url(settings.database_url)
    for link in _causes(exc):
        name = type(link).__name__
        if name == "InvalidCatalogNameError":
            name = url.database
            return f'database "{name}" does not exist: create it (createdb {name}) or set EDGELOOP_DATABASE_URL'
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return f"the database refused the login ({link}): fix the user in EDGELOOP_DATABASE_URL"
        if isinstance(link, EdgeloopError):
            return link.detail
        if isinstance(link, OSError | TimeoutError):
            where = f"{url.host or 'localhost'}:{url.port or 5432}" if url.get_backend_name() == "postgresql" else url
            return f"cannot reach the database at {where} ({link or name}): is it running? or set EDGELOOP_DATABASE_URL"
    return f"{type(exc).__name__}: {exc}"


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        seen.append(link)
        orig = getattr(link, "orig", None)
        link = orig if isinstance(orig, BaseException) and orig not in seen else (link.__cause__ or link.__context__)
    return seen


def _sqlite_file_must_exist(settings: Settings) -> None:
    # Opening a missing SQLite file creates it; only `edgeloop migrate` may do that.
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)  # type: ignore[arg-type]
        if not path.exists():
            _fail(
                f"database file {path} does not exist: run `edgeloop migrate` to create it, "
                "or set EDGELOOP_DATABASE_URL"
            )


def _port_must_be_free(host: str, port: int, variable: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it or set {variable}")


def _with_ctx(settings: Settings, fn: Callable[[ServiceContext], Awaitable[T]], *, migrated: bool = True) -> T:
    _sqlite_file_must_exist(settings)

    async def main() -> T:
        ctx = ServiceContext.create(settings)
        try:
            if migrated:
                await ensure_migrated(ctx.engine)
            return await fn(ctx)
        finally:
            await ctx.close()

    try:
        return asyncio.run(main())
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if _debug():
            traceback.print_exc()
        _fail(startup_hint(exc, settings))
        raise


def check_database(settings: Settings) -> None:
    """Exit with one line unless the database is reachable and migrated."""

    async def _noop(_: ServiceContext) -> None:
        return None

    _with_ctx(settings, _noop)


Host = Annotated[str | None, typer.Option(help="Bind address (env EDGELOOP_HOST).")]
Port = Annotated[int | None, typer.Option(help="Port (env EDGELOOP_PORT).")]


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema (alembic upgrade head)."""
    settings = load_settings()
    try:
        asyncio.run(upgrade(settings.database_url))
    except Exception as exc:
        if _debug():
            traceback.print_exc()
        _fail(startup_hint(exc, settings))
    typer.echo("database is at the latest revision")


@app.command()
def api(host: Host = None, port: Port = None) -> None:
    """Run the REST API (jobs go to arq when EDGELOOP_REDIS_URL is set, else run in-process)."""
    import uvicorn

    from api.rest.app import create_app

    settings = load_settings(host=host, port=port)
    check_database(settings)
    _port_must_be_free(settings.host, settings.port, "EDGELOOP_PORT")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # keep the process's logging (configure_logging): one format for every line
        proxy_headers=True,
    )


@app.command()
def serve(
    host: Host = None,
    port: Port = None,
    grpc_port: Annotated[int | None, typer.Option(help="gRPC port (env EDGELOOP_GRPC_PORT).")] = None,
) -> None:
    """API + gRPC + (without EDGELOOP_REDIS_URL) the embedded job runner in a child process it supervises."""
    settings = load_settings(host=host, port=port, grpc_port=grpc_port)
    check_database(settings)
    _port_must_be_free(settings.host, settings.port, "EDGELOOP_PORT")
    _port_must_be_free(settings.grpc_host, settings.grpc_port, "EDGELOOP_GRPC_PORT")
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    import uvicorn

    from api.grpc.server import start_grpc_server, stop_grpc_server
    from api.rest.app import create_app
    from workers.queue import open_job_queue

    ctx = ServiceContext.create(settings)
    try:
        # Embedded jobs run in a child process (workers/child.py): a cycle never holds this interpreter.
        async with open_job_queue(ctx, in_child=True) as queue:
            grpc_server, grpc_port = await start_grpc_server(ctx, settings.grpc_host, settings.grpc_port)
            typer.echo(
                f"edgeloop: REST on http://{settings.host}:{settings.port} (docs /docs), gRPC on "
                f"{settings.grpc_host}:{grpc_port}, jobs: {queue.backend}",
                err=True,
            )
            config = uvicorn.Config(
                create_app(settings, ctx=ctx),
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                log_config=None,
                proxy_headers=True,
            )
            try:
                await uvicorn.Server(config).serve()
            finally:
                await stop_grpc_server(grpc_server)
    finally:
        await ctx.close()


@app.command()
def grpc(
    host: Annotated[str | None, typer.Option(help="Bind address (env EDGELOOP_GRPC_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env EDGELOOP_GRPC_PORT).")] = None,
) -> None:
    """Run the gRPC server only (LearningService, grpc.health.v1, reflection)."""
    from api.grpc.server import run_grpc

    settings = load_settings(grpc_host=host, grpc_port=port)
    check_database(settings)
    _port_must_be_free(settings.grpc_host, settings.grpc_port, "EDGELOOP_GRPC_PORT")
    run_grpc(settings)


@app.command()
def worker() -> None:
    """Run an arq worker: queued cycles, outcome resolution, the schedule fan-out (needs EDGELOOP_REDIS_URL)."""
    from workers.settings import run_worker

    settings = load_settings()
    if not settings.redis_url:
        _fail("`edgeloop worker` needs EDGELOOP_REDIS_URL; without Redis, `edgeloop serve` runs the jobs itself")
    check_database(settings)
    run_worker(settings)


@bots_app.command("create")
def bots_create(
    bot_id: Annotated[str, typer.Argument(metavar="ID", help="Bot id: [a-z0-9][a-z0-9_-]{0,62}")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a bot and print its API key (shown once)."""
    created = _with_ctx(
        load_settings(), lambda ctx: bot_service.create_bot(ctx, bot_service.CLI_PRINCIPAL, bot_id, name, None)
    )
    typer.echo(f"bot {created.id} created (key id {created.key_id}); its API key, shown once:", err=True)
    typer.echo(created.api_key)


@keys_app.command("create")
def keys_create(admin: Annotated[bool, typer.Option("--admin", help="Create an admin key.")] = False) -> None:
    """Create an admin key and print it (shown once). Bot keys: POST /v1/bots/{bot}/keys. List: `keys list`."""
    if not admin:
        _fail("only `keys create --admin` is available here; bot keys come from `bots create` or the API")
    created = _with_ctx(load_settings(), bot_service.create_admin_key)
    typer.echo(f"admin key created (key id {created.key_id}); shown once:", err=True)
    typer.echo(created.api_key)


@keys_app.command("list")
def keys_list(
    admin_only: Annotated[bool, typer.Option("--admin", help="Admin keys only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API keys (admin and bot keys; revoked ones marked), read from the database."""

    async def every(ctx: ServiceContext) -> list[KeyRead]:
        items: list[KeyRead] = []
        cursor = None
        while True:
            page = await bot_service.list_keys(
                ctx, bot_service.CLI_PRINCIPAL, scope="admin" if admin_only else None, limit=500, cursor=cursor
            )
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            cursor = page.next_cursor

    keys = _with_ctx(load_settings(), every)
    if as_json:
        typer.echo(json.dumps([k.model_dump() for k in keys], indent=2))
        return
    for key in keys:
        owner = "admin" if key.bot_id is None else f"bot {key.bot_id}"
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        typer.echo(f"{key.key_id}  {owner:<20}  created {key.created_at}  {state}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key id (k_...).")]) -> None:
    """Revoke a key (admin or bot); running servers stop accepting it within a second."""
    _with_ctx(load_settings(), lambda ctx: bot_service.revoke_any_key(ctx, bot_service.CLI_PRINCIPAL, key_id))
    typer.echo(f"key {key_id} revoked")


Url = Annotated[
    str | None,
    typer.Option("--url", envvar="EDGELOOP_URL", help="A running server's base URL; read /v1/status from it."),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="EDGELOOP_ADMIN_TOKEN", help="Admin key for --url (env EDGELOOP_ADMIN_TOKEN)."),
]


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Print the /v1/status summary: of a running server (--url), else read from the database directly."""
    if url:
        result = _remote_status(url, token)
        source = url
    else:
        settings = load_settings()
        typer.echo(
            f"reading the database directly ({make_url(settings.database_url).render_as_string()}); "
            "the server's own queue and uptime need --url",
            err=True,
        )
        result = _with_ctx(settings, lambda ctx: status_service.get_status(ctx, bot_service.CLI_PRINCIPAL))
        source = "database"
    if as_json:
        typer.echo(json.dumps(result.model_dump(), indent=2))
        return
    _print_status(result, source, remote=bool(url))


def _remote_status(url: str, token: str | None) -> status_service.StatusRead:
    import httpx

    if not token:
        _fail("--url needs an admin key: --token or EDGELOOP_ADMIN_TOKEN")
    try:
        response = httpx.get(f"{url.rstrip('/')}/v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as exc:
        _fail(f"cannot reach {url} ({type(exc).__name__}: {exc}): is the server running? check --url / EDGELOOP_URL")
        raise
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text[:200]
        _fail(f"{url} answered {response.status_code}: {detail}")
    return status_service.StatusRead.model_validate(response.json())


def _print_status(result: status_service.StatusRead, source: str, *, remote: bool) -> None:
    hb = result.worker_heartbeat_age_s
    queue = result.queue if remote else f"{result.queue} (as configured for this shell)"
    uptime = f"  uptime={result.uptime_s:.0f}s" if remote else ""
    typer.echo(f"edgeloop {result.version} ({source})  queue={queue}{uptime}")
    typer.echo(f"workers: {len(result.workers)}, last heartbeat {'never' if hb is None else f'{hb:.0f}s ago'}")
    for w in result.workers:
        typer.echo(f"  - {w.worker_id} ({w.queue}): {w.heartbeat_age_s:.0f}s ago")
    if not result.bots:
        typer.echo("no bots yet: `edgeloop bots create ID`")
    for bot in result.bots:
        ev = bot.events
        problems = f" [{', '.join(bot.problems)}]" if bot.problems else ""
        typer.echo(
            f"- {bot.id}: health {bot.health}{problems}, params v{bot.current_version}, "
            f"watermark {bot.watermark or 'none'}, {ev['signals']} signals, {ev['trades']} trades, {ev['prices']} marks"
        )
        for kind, cycle in sorted(bot.last_cycles.items()):
            typer.echo(f"    last {kind} cycle: {cycle.status} ({cycle.finished_at or 'not finished'})")
        if bot.data is not None:
            typer.echo(
                f"    data: oldest event {bot.data.oldest_event or 'none'}, {bot.data.rows['signal_outcomes']} "
                f"outcomes, retention {bot.data.retention or 'derived'} ({bot.data.retention_s} s), "
                f"last retention run {bot.data.last_retention_run or 'never'}"
            )


def _time(text: str) -> int:
    """RFC 3339 with an offset, or integer epoch milliseconds."""
    if text.isdigit():
        return int(text)
    try:
        return rfc3339_to_ms(text)
    except ValueError as exc:
        _fail(f"{text!r}: {exc} (or integer epoch milliseconds)")
        raise


@archive_app.command("list")
def archive_list(
    bot_id: Annotated[str | None, typer.Argument(metavar="[BOT]", help="Only this bot's archives.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest entries as JSON lines.")] = False,
) -> None:
    """List archived files: bot, table, period, rows, file (relative to EDGELOOP_ARCHIVE_DIR)."""

    async def run(ctx: ServiceContext) -> list[archive_service.ArchiveEntry]:
        return archive_service.list_archives(ctx, bot_id)

    entries = _with_ctx(load_settings(), run)
    for e in entries:
        if as_json:
            typer.echo(e.line())
        else:
            typer.echo(
                f"{e.bot_id}  {e.table:<15}  {ms_to_rfc3339(e.from_ms)} .. {ms_to_rfc3339(e.to_ms)}  "
                f"{e.rows:>9} rows  {e.file}"
            )
    if not entries and not as_json:
        typer.echo("no archives", err=True)


@archive_app.command("restore")
def archive_restore(
    bot_id: Annotated[str, typer.Argument(metavar="BOT")],
    from_: Annotated[str, typer.Option("--from", help="Start of the range (RFC 3339 or epoch ms), inclusive.")],
    to: Annotated[str, typer.Option("--to", help="End of the range (RFC 3339 or epoch ms), inclusive.")],
) -> None:
    """Re-ingest a bot's archived signals, trades and marks in [from, to] (idempotent: re-sent events are
    duplicates). Raise the bot's `retention` first if the range is older than its window."""
    lo, hi = _time(from_), _time(to)
    result = _with_ctx(
        load_settings(), lambda ctx: archive_service.restore(ctx, bot_service.CLI_PRINCIPAL, bot_id, lo, hi)
    )
    typer.echo(
        f"restored {bot_id}: {result.files} files, {result.events} events in range, "
        f"{result.accepted} stored, {result.duplicates} already present"
    )


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
