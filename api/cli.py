"""The `edgeloop` command: serve, api, grpc, worker, migrate, bots, keys, status, archive."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from core.errors import EdgeloopError
from core.schemas.timefmt import ms_to_rfc3339, rfc3339_to_ms
from core.services import archive as archive_service
from core.services import bots as bot_service
from core.services import status as status_service
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import ensure_migrated, upgrade

app = typer.Typer(help="edgeloop: learning-as-a-service for trading bots.", no_args_is_help=True)
bots_app = typer.Typer(help="Manage bots.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(bots_app, name="bots")
app.add_typer(keys_app, name="keys")
archive_app = typer.Typer(help="Parquet archives of expired events (EDGELOOP_ARCHIVE_DIR).", no_args_is_help=True)
app.add_typer(archive_app, name="archive")

T = TypeVar("T")


def _fail(message: str) -> None:
    typer.echo(f"edgeloop: {message}", err=True)
    raise typer.Exit(1)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus CLI flags; one clear line and exit 1 if they are invalid."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"invalid setting EDGELOOP_{str(first['loc'][0]).upper()}: {first['msg']}")
        raise


def _with_ctx(settings: Settings, fn: Callable[[ServiceContext], Awaitable[T]], *, migrated: bool = True) -> T:
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
    except EdgeloopError as exc:
        _fail(exc.detail)
        raise
    except OSError as exc:
        _fail(f"cannot reach the database: {exc}")
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
    except OSError as exc:
        _fail(f"cannot reach the database: {exc}")
    typer.echo("database is at the latest revision")


@app.command()
def api(host: Host = None, port: Port = None) -> None:
    """Run the REST API (jobs go to arq when EDGELOOP_REDIS_URL is set, else run in-process)."""
    import uvicorn

    from api.rest.app import create_app

    settings = load_settings(host=host, port=port)
    check_database(settings)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level, proxy_headers=True
    )


@app.command()
def serve(
    host: Host = None,
    port: Port = None,
    grpc_port: Annotated[int | None, typer.Option(help="gRPC port (env EDGELOOP_GRPC_PORT).")] = None,
) -> None:
    """API + gRPC + (without EDGELOOP_REDIS_URL) the embedded job runner, in one process."""
    settings = load_settings(host=host, port=port, grpc_port=grpc_port)
    check_database(settings)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    import uvicorn

    from api.grpc.server import start_grpc_server, stop_grpc_server
    from api.rest.app import create_app
    from workers.allocator import keep_freed_memory
    from workers.queue import open_job_queue

    ctx = ServiceContext.create(settings)
    try:
        async with open_job_queue(ctx) as queue:
            if queue.backend == "embedded":  # this process runs the cycles
                keep_freed_memory(settings.keep_freed_memory_mb)
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
    host: Host = None, port: Annotated[int | None, typer.Option(help="Port (env EDGELOOP_GRPC_PORT).")] = None
) -> None:
    """Run the gRPC server only (LearningService, grpc.health.v1, reflection)."""
    from api.grpc.server import run_grpc

    settings = load_settings(grpc_host=host, grpc_port=port)
    check_database(settings)
    run_grpc(settings)


@app.command()
def worker() -> None:
    """Run an arq worker: queued cycles, outcome resolution, the schedule fan-out (needs EDGELOOP_REDIS_URL)."""
    from workers.settings import run_worker

    settings = load_settings()
    if not settings.redis_url:
        _fail("`edgeloop worker` needs EDGELOOP_REDIS_URL; without Redis, `edgeloop serve` runs jobs in-process")
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
    """Create an admin key and print it (shown once). Bot keys: POST /v1/bots/{bot}/keys."""
    if not admin:
        _fail("only `keys create --admin` is available here; bot keys come from `bots create` or the API")
    created = _with_ctx(load_settings(), bot_service.create_admin_key)
    typer.echo(f"admin key created (key id {created.key_id}); shown once:", err=True)
    typer.echo(created.api_key)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the /v1/status summary."""
    result = _with_ctx(load_settings(), lambda ctx: status_service.get_status(ctx, bot_service.CLI_PRINCIPAL))
    if as_json:
        typer.echo(json.dumps(result.model_dump(), indent=2))
        return
    hb = result.worker_heartbeat_age_s
    typer.echo(
        f"edgeloop {result.version}  queue={result.queue}  "
        f"worker heartbeat={'never' if hb is None else f'{hb:.0f}s ago'}"
    )
    if not result.bots:
        typer.echo("no bots yet: `edgeloop bots create ID`")
    for bot in result.bots:
        ev = bot.events
        typer.echo(
            f"- {bot.id}: params v{bot.current_version}, watermark {bot.watermark or 'none'}, "
            f"{ev['signals']} signals, {ev['trades']} trades, {ev['prices']} marks"
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
