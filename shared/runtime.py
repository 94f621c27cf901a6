"""What a running service is made of: its database, event store, relay, consumers
and deadline scheduler, started and stopped together with the HTTP app."""

from __future__ import annotations

import asyncio
import contextvars
import gc
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

import structlog

from shared.clock import Clock, clock_for_speed
from shared.consumer import BatchHandler, ConsumerRunner, Reactions
from shared.db import Database
from shared.deadlines import DeadlineHandler, DeadlineScheduler
from shared.eventstore import EventStore
from shared.kafka import broker_reachable, ensure_topics
from shared.relay import Relay
from shared.settings import Settings
from shared.waiting import pause

log = structlog.get_logger()


class ServiceRuntime:
    def __init__(self, service: str, settings: Settings, clock: Clock | None = None) -> None:
        self.service = service
        self.settings = settings
        self.clock = clock or clock_for_speed(settings.clock_speed, settings.clock_file)
        self.db = Database(settings.database_url_for(service))
        self.topic = settings.topic(service)
        self.store = EventStore(service, self.topic)
        self.relay = Relay(self.db, settings, self.store)
        self.scheduler = DeadlineScheduler(
            self.db, self.clock, service, {}, interval_s=settings.scheduler_interval_s
        )
        self.consumers: dict[str, ConsumerRunner] = {}
        self.loops: dict[str, Callable[[asyncio.Event], Awaitable[None]]] = {}
        self.startup: list[Callable[[], Awaitable[None]]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def now(self) -> datetime:
        return self.clock.now()

    def add_consumer(
        self,
        name: str,
        from_services: list[str],
        reactions: Reactions,
        batch_handler: BatchHandler | None = None,
    ) -> ConsumerRunner:
        group = f"{self.settings.kafka_topic_prefix}shopflow.{self.service}.{name}"
        topics = [self.settings.topic(s) for s in from_services]
        runner = ConsumerRunner(self.db, self.settings, group, topics, reactions, batch_handler)
        self.consumers[group] = runner
        return runner

    def add_loop(self, name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """A background loop of the service's own (e.g. a sender), started with the relay and
        the consumers, restarted after a crash, and told to stop with them."""
        self.loops[name] = loop

    def on_deadline(self, kind: str, handler: DeadlineHandler) -> None:
        self.scheduler.handlers[kind] = handler

    async def start(self) -> None:
        topics = {self.topic} | {t for c in self.consumers.values() for t in c.topics}
        await ensure_topics(self.settings, sorted(topics))
        for step in self.startup:
            await step()
        self._stop.clear()
        self._spawn("relay", self.relay.run)
        self._spawn("scheduler", self.scheduler.run)
        for name, consumer in self.consumers.items():
            self._spawn(name, consumer.run)
        for name, loop in self.loops.items():
            self._spawn(name, loop)
        # The long-lived objects made so far (modules, app, routes) leave the collector's
        # generations, so collections only walk what the work creates: a third of the
        # projection's parse time was full collections over them.
        gc.freeze()
        log.info("service started", topics=sorted(topics))

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a one-off background task (e.g. a rebuild) that stop() waits for, then cancels.
        It starts in a fresh context: it must not join the request's unit of work."""
        self._tasks.append(asyncio.create_task(work, context=contextvars.Context()))

    def _spawn(self, name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))

    async def _supervise(self, name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Run a background loop until stop; restart it after a crash (e.g. broker down)."""
        while not self._stop.is_set():
            try:
                await loop(self._stop)
            except Exception as exc:
                log.error("background loop crashed, restarting", loop=name, error=repr(exc))
                await pause(self._stop, 2.0)

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        await self.db.close()

    async def ready(self) -> dict[str, bool]:
        checks = {"database": True, "broker": await broker_reachable(self.settings)}
        try:
            await self.db.ping()
        except Exception:
            checks["database"] = False
        return checks
