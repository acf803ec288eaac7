"""The embedded runner in a child process: `edgeloop serve` without Redis keeps cycles off its interpreter.

A cycle's numpy and pandas work holds the interpreter it runs in; in the serving process that
stalled every request for as long as the cycle ran (issue #16: GET /params p99 435 ms during a 200k
signal cycle). So the serving process runs no job itself. ``ChildJobs`` is its ``JobQueue``: it
starts ``python -m workers.child``, which owns an ordinary ``EmbeddedRunner`` (the same jobs, claim
and lease rules, schedule, heartbeat, allocator setting as an arq worker), and forwards every
enqueue to it over a pipe. The child says when a job is done and when it committed a version, so
the serving process drops its params cache and wakes its long-polls at once.

Crashes: a child killed mid-cycle leaves the version untouched (the result is written in one
transaction at the end). ``ChildJobs`` starts a new child and sends it every job the dead one had
not finished; the cycle the dead child held is recovered by the schedule tick once its lease runs
out (``recover_stale_cycles``), as for a killed arq worker, and counts as an attempt (a cycle that
kills its process ``MAX_ATTEMPTS`` times is failed, not re-run forever). When the serving process
stops, it closes the pipe; the child cancels its jobs (a cancelled cycle goes back to the queue)
and exits. A child whose parent died sees the same end of its input and does the same.

The pipe protocol is one JSON object a line. Parent to child: first the settings (pickled, base64),
then ``{"cycle": [bot, cycle_id]}``, ``{"resolve": bot}`` or ``{"retention": bot}``. Child to
parent: ``{"ready": pid}``, ``{"done": job_id}``, ``{"version": true}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import pickle
import signal
import sys
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from core.services.context import ServiceContext, VersionNotifier
from core.settings import Settings
from workers.allocator import keep_freed_memory
from workers.embedded import EmbeddedRunner
from workers.jobs import TICK_S

log = logging.getLogger("edgeloop.embedded")

CHILD_COMMAND = (sys.executable, "-m", "workers.child")
READY_TIMEOUT_S = 60.0  # importing numpy/pandas on a busy 2-core box can take several seconds
STOP_GRACE_S = 15.0  # a stopping child releases its cycle (one small transaction) and exits
MAX_RESTART_DELAY_S = 30.0


class ChildJobs:
    """The serving process's ``JobQueue``: jobs go to a supervised child process that runs them."""

    backend = "embedded"

    def __init__(self, ctx: ServiceContext, *, tick_s: float = TICK_S, command: Sequence[str] = CHILD_COMMAND) -> None:
        self.ctx = ctx
        self.tick_s = tick_s
        self.command = tuple(command)
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._pending: dict[str, dict[str, Any]] = {}  # job id -> message, until the child says it is done
        self._stopping = False
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    async def enqueue_cycle(self, bot_id: str, cycle_id: str) -> None:
        self._submit(f"cycle:{cycle_id}", {"cycle": [bot_id, cycle_id]})

    async def enqueue_resolve(self, bot_id: str) -> None:
        self._submit(f"resolve:{bot_id}", {"resolve": bot_id})

    async def enqueue_retention(self, bot_id: str) -> None:
        self._submit(f"retention:{bot_id}", {"retention": bot_id})

    async def check_available(self) -> None:
        """Always: a job sent while the child restarts is kept and sent to the next one."""

    async def has_cycle_job(self, cycle_id: str) -> bool:
        return f"cycle:{cycle_id}" in self._pending

    def _submit(self, job_id: str, message: dict[str, Any]) -> None:
        # One pending job per id, as in EmbeddedRunner (ingest asks for a resolution on every batch).
        if job_id in self._pending:
            return
        self._pending[job_id] = message
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        proc = self.process
        if proc is None or proc.stdin is None or proc.stdin.is_closing() or proc.returncode is not None:
            return  # kept in _pending: the next child gets it
        proc.stdin.write(json.dumps(message).encode() + b"\n")

    async def _spawn(self) -> asyncio.subprocess.Process:
        self._ready.clear()
        proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdin is not None
        setup = {"settings": self.ctx.settings, "tick_s": self.tick_s}
        proc.stdin.write(base64.b64encode(pickle.dumps(setup)) + b"\n")
        self.process = proc
        for message in self._pending.values():  # what a dead child left unfinished
            self._send(message)
        return proc

    async def _listen(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("embedded job process wrote %r", line[:200])
                continue
            if "done" in message:
                self._pending.pop(message["done"], None)
            elif "version" in message:
                # A version made in the child: what `version_committed` does in the process that made it
                # (for every bot: the notifier does not say which, and a reload is one small query).
                self.ctx.params_cache.clear()
                await self.ctx.notifier.notify()
            elif "ready" in message:
                self._ready.set()

    async def _supervise(self, proc: asyncio.subprocess.Process) -> None:
        delay = 1.0
        while True:
            await self._listen(proc)
            code = await proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.error("the embedded job process exited (code %s); starting a new one in %.0f s", code, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RESTART_DELAY_S)
            proc = await self._spawn()
            if await self._wait_ready(proc):
                delay = 1.0

    async def start(self) -> None:
        """Start the child and wait until it has beaten and ticked once (as ``EmbeddedRunner.start``)."""
        proc = await self._spawn()
        self._supervisor = asyncio.ensure_future(self._supervise(proc))
        if not await self._wait_ready(proc):  # serve anyway; the supervisor keeps trying
            log.warning("the embedded job process is not ready; the server starts without it")

    async def _wait_ready(self, proc: asyncio.subprocess.Process) -> bool:
        """Whether ``proc`` said it is ready (False if it exited first or took over ``READY_TIMEOUT_S``)."""
        ready, exited = asyncio.ensure_future(self._ready.wait()), asyncio.ensure_future(proc.wait())
        try:
            await asyncio.wait({ready, exited}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            exited.cancel()
        return self._ready.is_set()

    async def stop(self) -> None:
        """Close the child's input (it releases its cycles and exits); kill it if it does not."""
        self._stopping = True
        if self._supervisor is not None:  # first, so it starts no new child
            self._supervisor.cancel()
            with suppress(asyncio.CancelledError):
                await self._supervisor
        proc = self.process
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
            except TimeoutError:
                log.warning("the embedded job process did not stop in %.0f s; killing it", STOP_GRACE_S)
                proc.kill()
                await proc.wait()


# --- the child ---------------------------------------------------------------------------------


class _Out:
    """Messages to the parent on a private copy of stdout; stdout itself goes to stderr, so a stray
    print in a library cannot corrupt the protocol."""

    def __init__(self) -> None:
        self.fd = os.dup(1)
        os.dup2(2, 1)

    def send(self, message: dict[str, Any]) -> None:
        os.write(self.fd, json.dumps(message).encode() + b"\n")


class _ForwardingNotifier(VersionNotifier):
    """Tells the parent a version was made here (``version_committed`` calls ``notify`` after the commit)."""

    def __init__(self, out: _Out) -> None:
        super().__init__()
        self.out = out

    async def notify(self) -> None:
        await super().notify()
        self.out.send({"version": True})


async def _lines(reader: asyncio.StreamReader) -> Any:
    while line := await reader.readline():
        yield json.loads(line)


async def child_main() -> None:
    """Run the embedded runner until the parent closes the pipe (or SIGTERM)."""
    out = _Out()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    setup = pickle.loads(base64.b64decode(await reader.readline()))
    settings: Settings = setup["settings"]
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keep_freed_memory(settings.keep_freed_memory_mb)  # this process runs the cycles
    ctx = ServiceContext.create(settings)
    ctx.notifier = _ForwardingNotifier(out)
    runner = EmbeddedRunner(ctx, tick_s=setup["tick_s"], on_done=lambda job_id: out.send({"done": job_id}))
    ctx.jobs = runner
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await runner.start()
        out.send({"ready": os.getpid()})

        async def forward() -> None:
            async for message in _lines(reader):
                if "cycle" in message:
                    bot_id, cycle_id = message["cycle"]
                    await runner.enqueue_cycle(bot_id, cycle_id)
                elif "resolve" in message:
                    await runner.enqueue_resolve(message["resolve"])
                elif "retention" in message:
                    await runner.enqueue_retention(message["retention"])
            stop.set()  # the parent closed the pipe, or died

        forwarding = asyncio.ensure_future(forward())
        await stop.wait()
        forwarding.cancel()
        with suppress(asyncio.CancelledError):
            await forwarding
    finally:
        await runner.stop()
        await ctx.close()


async def _run_then_exit() -> None:
    code = 1
    try:
        await child_main()
        code = 0
    except Exception:
        log.exception("the embedded job process failed")
    finally:
        # Exit now: a cycle's engine thread cannot be cancelled, and asyncio.run would wait for it. Its
        # cycle is already back in the queue (the runner's stop released it).
        logging.shutdown()
        os._exit(code)


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_run_then_exit())


if __name__ == "__main__":
    main()
