"""Background responses: runs that outlive the request that created them, polled, resumed and cancelled.

``POST /v1/responses`` with ``background: true`` writes the response ``queued`` (``Plan.begin_run``) and
returns; a task of this process then makes the Azure call through the same pipeline as a stream
(``ResponsesService``) and records how it stands in the response's row: ``in_progress`` once Azure answered,
then the final Response. With ``stream: true`` every batch of events is also kept, so
``GET /v1/responses/{id}?stream=true&starting_after=N`` resumes right after event N - from this process's
memory while the run is here, from the store otherwise (any process sharing it), polling until the run ends.

Liveness: each process refreshes the heartbeat of its runs every ``background_heartbeat_seconds`` (and the
locks of the conversations they continue, which a run longer than ``request_timeout`` would lose); a run
whose heartbeat is older than ``STALE_BEATS`` of them belongs to a process that died, and the next process
that looks (a poll, a resume, a cancel, or its own sweep) fails it with a message saying so. A process that
is stopped fails its unfinished runs at once. A cancel is written to the row first (whoever writes first
wins); the running process cancels its task at once when the cancel arrived here, else at its next
heartbeat, which aborts the Azure call and frees its concurrency slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack

import anyio
import msgspec
from msgspec.structs import replace

from app.models import generated as m
from app.service.events import EventSource
from app.service.stored import Plan, StoredResponses, check_include, store_failed
from app.store import RUNNING, RunState, Store
from app.telemetry import observe
from app.translate.stream import TERMINAL_EVENTS, ResponseStream
from app.wire.errors import GatewayError, invalid_request

log = logging.getLogger("app.service.background")

STALE_BEATS = 5  # heartbeats a run may miss before its process is taken for dead
POLL_SECONDS = 0.2  # how often a resume from another process's run looks for new events
_ENCODER = msgspec.json.Encoder()
_RESPONSE = msgspec.json.Decoder(m.Response)
_EVENTS = msgspec.json.Decoder(list[m.ResponseStreamEvent])

Batches = AsyncGenerator[list[m.ResponseStreamEvent], None]
OpenEvents = Callable[[], Awaitable[EventSource[m.ResponseStreamEvent]]]
"""Opens the run's Azure stream and returns its events after ``response.in_progress``."""


class Run:
    """One background response running in this process: its task, and its events while it runs."""

    def __init__(
        self,
        tenant: str,
        snapshot: m.Response,
        *,
        streamed: bool,
        plan: Plan,
        translator: ResponseStream,
        open_events: OpenEvents,
    ) -> None:
        self.tenant = tenant
        self.snapshot = snapshot
        self.streamed = streamed
        # What the task needs: the create's state, its translator, and how to open its Azure stream.
        self.plan = plan
        self.translator = translator
        self.open_events = open_events
        self.events: list[m.ResponseStreamEvent] = []  # sequence_number == index: every event is kept
        self.done = False
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def add(self, batch: list[m.ResponseStreamEvent]) -> None:
        self.events += batch
        self._signal()

    def end(self) -> None:
        self.done = True
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int) -> Batches:
        """The events after sequence number ``after``, live, until the run ends."""
        position = max(after + 1, 0)
        while True:
            changed = self._changed
            if position < len(self.events):
                batch = self.events[position:]
                position = len(self.events)
                yield batch
                continue
            if self.done:
                return
            await changed.wait()


class BackgroundRuns:
    def __init__(self, stored: StoredResponses, *, heartbeat: float) -> None:
        self.stored = stored
        self.heartbeat = heartbeat
        self.runs: dict[str, Run] = {}
        self._beating: asyncio.Task[None] | None = None

    @property
    def stale_ms(self) -> int:
        return int(self.heartbeat * STALE_BEATS * 1000)

    def _store(self) -> Store:
        assert self.stored.store is not None
        return self.stored.store

    # ------------------------------------------------------------------------------------------ create

    @staticmethod
    def check(request: m.CreateResponse, *, store_on: bool) -> None:
        """Background needs the store (the response is polled from it) and ``store`` left true."""
        if not store_on:
            raise invalid_request(
                'The gateway runs with store_url = "off", so it keeps no responses, and a background response '
                "must be kept to be polled. Set store_url (GATEWAY_STORE_URL) to sqlite:///PATH, "
                "postgresql://… or memory to use background responses.",
                param="background",
                code="store_disabled",
            )
        if request.store is False:
            raise invalid_request(
                "background responses are kept so that they can be polled: send store true (or leave it out).",
                param="store",
            )

    async def begin(
        self, plan: Plan, translator: ResponseStream, open_events: OpenEvents, tenant: str, *, streamed: bool
    ) -> tuple[m.Response, Run]:
        """Write the response ``queued`` and start its task; returns the queued Response and the run."""
        started = translator.start_queued()  # created and queued now; in_progress once Azure has answered
        queued = started[0].response  # type: ignore[union-attr]
        await plan.begin_run(queued, streamed=streamed)
        run = Run(tenant, queued, streamed=streamed, plan=plan, translator=translator, open_events=open_events)
        self.runs[queued.id] = run
        await self._add(run, started)
        record = observe.current()
        request_id = record.request_id if record is not None else None
        run.task = asyncio.create_task(self._drive(run, request_id), name=f"background {queued.id}")
        return queued, run

    async def _drive(self, run: Run, request_id: str | None) -> None:
        # A unit of work of its own: its log line (with the creating request's id), metrics and usage.
        with observe.unit_of_work("/v1/responses", method="BACKGROUND", request_id=request_id) as record:
            record.stream = True
            try:
                await self._run(run, record)
            except asyncio.CancelledError:
                record.status = 499  # cancelled, or its process is stopping: whoever did so settled the row
                raise
            except Exception:
                log.exception("background response %s failed in the gateway", run.snapshot.id)
                record.status = 500
                await self._settle(run.tenant, run.snapshot, "failed", "The gateway failed while running it.")
            finally:
                with anyio.CancelScope(shield=True):
                    await run.plan.abort()
                    run.end()
                    self.runs.pop(run.snapshot.id, None)

    async def _run(self, run: Run, record: observe.Record) -> None:
        try:
            source = await run.open_events()
        except GatewayError as error:  # already in the Responses request's terms
            record.status = error.status
            observe.note_error(error.code or error.type, error.message)
            await self._end(run, run.translator.fail(f"Azure OpenAI refused the request: {error.message}"))
            return
        record.status = 200
        in_progress = run.translator.in_progress()
        snapshot = in_progress.response
        run.snapshot = snapshot
        if not await self._store().set_run_status(run.tenant, snapshot.id, "in_progress", _ENCODER.encode(snapshot)):
            await _close(source)
            return  # cancelled while it waited for a slot and Azure's answer
        await self._add(run, [in_progress])
        try:
            async for batch in source:
                if any(isinstance(event, TERMINAL_EVENTS) for event in batch):
                    await self._end(run, batch)
                    return
                await self._add(run, batch)
        finally:
            await _close(source)

    async def _end(self, run: Run, batch: list[m.ResponseStreamEvent]) -> None:
        """The terminal batch, kept in the transaction that ends the row: a resume that sees the run ended
        has all its events, and a run cancelled first keeps no terminal event."""
        final = next(event for event in batch if isinstance(event, TERMINAL_EVENTS))
        events = (batch[0].sequence_number, _ENCODER.encode(batch)) if run.streamed else None
        try:
            finished = await run.plan.finish(final.response, events=events)
        except GatewayError as exc:
            log.error("background response %s could not be stored: %s", run.snapshot.id, exc.message)
            return
        if finished:
            run.add(batch)

    async def _add(self, run: Run, batch: list[m.ResponseStreamEvent]) -> None:
        if run.streamed:
            await self._keep(run, batch)
        run.add(batch)

    async def _keep(self, run: Run, batch: list[m.ResponseStreamEvent]) -> None:
        try:
            await self._store().add_events(run.snapshot.id, batch[0].sequence_number, _ENCODER.encode(batch))
        except Exception as exc:
            # The run goes on (its poll and this process's resume still work); a resume elsewhere misses these.
            log.error("keeping the events of background response %s failed: %s", run.snapshot.id, exc)

    # ------------------------------------------------------------------------------------------ reads

    async def retrieve(self, tenant: str, response_id: str, include: list[str] | None) -> m.Response:
        check_include(include)
        return _RESPONSE.decode((await self._current(tenant, response_id)).body)

    async def cancel(self, tenant: str, response_id: str) -> m.Response:
        """Cancel a background response; one that has ended is returned as it is (cancelling is idempotent)."""
        state = await self._current(tenant, response_id)
        if state.status is None:
            raise invalid_request(
                f"Response '{response_id}' was not created with background: true; only background responses "
                "can be cancelled.",
                code="response_not_cancellable",
            )
        if state.status in RUNNING:
            cancelled = replace(_RESPONSE.decode(state.body), status="cancelled")
            try:
                won = await self._store().set_run_status(tenant, response_id, "cancelled", _ENCODER.encode(cancelled))
            except Exception as exc:
                raise store_failed(exc) from None
            if won:
                self._stop_local(response_id)
                return cancelled
            state = await self.stored.state(tenant, response_id)  # it ended meanwhile
        return _RESPONSE.decode(state.body)

    async def resume(self, tenant: str, response_id: str, after: int) -> EventSource[m.ResponseStreamEvent]:
        """The kept events of a streamed background response after ``after``, live until it ends."""
        state = await self._current(tenant, response_id)
        if not state.streamed:
            raise invalid_request(
                f"Response '{response_id}' was not created with background: true and stream: true; only those "
                "can be streamed again. Retrieve it without stream.",
                param="stream",
            )
        run = self.runs.get(response_id)
        if run is not None and run.tenant == tenant:
            return EventSource(AsyncExitStack(), run.follow(after))  # here: from memory, live
        return EventSource(AsyncExitStack(), self._poll(tenant, response_id, after))

    async def _poll(self, tenant: str, response_id: str, after: int) -> Batches:
        store = self._store()
        while True:
            # The row first: a run's last events are kept in the transaction that ends its row, so once the
            # row says it ended, this read has them all.
            state = await self.stored.state(tenant, response_id)
            for body in await store.events_after(response_id, after):
                batch = [event for event in _EVENTS.decode(body) if event.sequence_number > after]
                if batch:
                    after = batch[-1].sequence_number
                    yield batch
            if state.status not in RUNNING:
                return
            if await self._stale(tenant, response_id, state):
                continue  # settled just now: one more pass yields its response.failed
            await asyncio.sleep(POLL_SECONDS)

    async def _current(self, tenant: str, response_id: str) -> RunState:
        """The response's state, with a run whose process died settled as failed first."""
        state = await self.stored.state(tenant, response_id)
        if await self._stale(tenant, response_id, state):
            state = await self.stored.state(tenant, response_id)
        return state

    async def _stale(self, tenant: str, response_id: str, state: RunState) -> bool:
        """Fail the run if it still runs with an old heartbeat and is not this process's own; True if so."""
        if state.status not in RUNNING or response_id in self.runs:
            return False
        age_ms = int(time.time() * 1000) - state.heartbeat_at
        if age_ms <= self.stale_ms:
            return False
        snapshot = _RESPONSE.decode(state.body)
        message = (
            f"The gateway process running this background response stopped (no heartbeat for {age_ms // 1000} s); "
            "create it again."
        )
        await self._settle(tenant, snapshot, "failed", message, streamed=state.streamed)
        return True

    async def _settle(
        self, tenant: str, snapshot: m.Response, status: str, message: str, *, streamed: bool | None = None
    ) -> None:
        """End a run that cannot end by itself (its process died or stops, or the gateway failed)."""
        final = replace(snapshot, status=status, error=m.ResponseError(code="server_error", message=message))
        store = self._store()
        run = self.runs.get(snapshot.id)
        try:
            events: tuple[int, bytes] | None = None
            if streamed if streamed is not None else (run is not None and run.streamed):
                # Resumes end the way streams end: a response.failed after the last kept event, kept in the
                # transaction that settles the row.
                if run is not None:
                    last = len(run.events) - 1
                else:
                    kept = await store.events_after(snapshot.id, 1 << 62)
                    last = _EVENTS.decode(kept[-1])[-1].sequence_number if kept else -1
                failed = m.ResponseFailedEvent(sequence_number=last + 1, response=final)
                events = (last + 1, _ENCODER.encode([failed]))
            if not await store.set_run_status(tenant, snapshot.id, status, _ENCODER.encode(final), events=events):
                return
            if run is not None and events is not None:
                run.add([failed])
        except Exception as exc:
            log.error("settling background response %s as %s failed: %s", snapshot.id, status, exc)
            return
        log.warning("background response %s %s: %s", snapshot.id, status, message)

    def _stop_local(self, response_id: str) -> None:
        run = self.runs.get(response_id)
        if run is not None and run.task is not None:
            run.task.cancel()

    # ------------------------------------------------------------------------------------------ lifetime

    async def start(self) -> None:
        if self.stored.store is not None:
            self._beating = asyncio.create_task(self._beat_forever(), name="background-heartbeat")

    async def stop(self) -> None:
        """Fail this process's unfinished runs (they cannot go on without it) and stop their tasks."""
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
            self._beating = None
        runs = list(self.runs.values())
        for run in runs:
            message = "The gateway was stopped while this background response was running; create it again."
            await self._settle(run.tenant, run.snapshot, "failed", message)
            if run.task is not None:
                run.task.cancel()
        await asyncio.gather(*(run.task for run in runs if run.task is not None), return_exceptions=True)

    async def _beat_forever(self) -> None:
        store = self._store()
        while True:
            try:
                # Runs cancelled or deleted through another process stop here at the next beat.
                owners = [run.plan.lock_owner for run in self.runs.values() if run.plan.lock_owner is not None]
                for response_id in await store.beat(list(self.runs), owners, self.stored.lock_ttl):
                    self._stop_local(response_id)
                cutoff = int(time.time() * 1000) - self.stale_ms
                for stale in await store.stale_runs(cutoff):
                    await self._stale(stale.tenant, stale.response_id, stale.state)
            except Exception:
                log.exception("the background runs' heartbeat failed")
            await asyncio.sleep(self.heartbeat)


async def _close(source: EventSource[m.ResponseStreamEvent]) -> None:
    # Shielded: a cancelled run still gives back its Azure connection and concurrency slot.
    with anyio.CancelScope(shield=True):
        await source.aclose()
