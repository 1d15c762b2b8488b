"""Label workers on a Ray cluster (`[labels] workers = "ray"`): a pool of actors behind the Labeller's interface.

The engine's label job hands each batch of pending posts to :meth:`RayLabeller.label`, which splits it into chunks
for the actors and returns every post's `Labels` in order; the job then tags and writes them exactly as it does
with the in-process Labeller (the engine stays the only writer, the model tags are the same). Each actor loads its
own ONNX Runtime sessions once, from the model files, with an explicit thread count.

A worker that dies mid-batch (SIGKILL, a lost machine): its chunks are handed to another live actor at once, and
Ray restarts the dead one, which rejoins the pool when it answers again. A chunk's result is kept once, by its
position in the batch, and the labels table is keyed by post: no label is lost or written twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings import Settings

from . import Claim, Labeller, Labels, Topic
from .errors import ClassifierError
from .models import BUILD, ModelSet
from .runtime import BATCH_SIZE, OnnxModel

log = logging.getLogger(__name__)
SLOTS_PER_ACTOR = 2  # chunks queued on each actor, so it never waits for the engine between two chunks
MAX_RESTARTS = 3  # a worker killed more often than this is gone for good; the others carry on


class ThreadedModelSet(ModelSet):
    """The models with one explicit thread count for every ONNX Runtime session (a worker's share of cores)."""

    def __init__(self, models_dir: Path | None, threads: int) -> None:
        super().__init__(models_dir)
        self.threads = threads

    def _load(self, folder: str, threads: int = 0) -> OnnxModel:
        return OnnxModel(self.root / folder, BUILD[folder], self.threads)


class Inline(Executor):
    """Runs each submitted call at once, in the caller's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to the caller through the future, as a thread pool would
            done.set_exception(e)
        return done


class LabelWorker:
    """One Ray actor: a Labeller with its own sessions, loaded once; claims follow the engine's version."""

    def __init__(self, topics: Sequence[Topic], models_dir: str | None, threads: int) -> None:
        folder = Path(models_dir) if models_dir else None
        self.labeller = Labeller(topics, (), folder)
        self.labeller.model_set = ThreadedModelSet(folder, threads)
        if threads == 1:  # one reserved CPU: the two model passes one after the other, not side by side
            self.labeller.__dict__["_side"] = Inline()
        self.labeller.label(["warm up"])  # every session loads now, not on the first chunk
        self.claims_version = "none"

    def ready(self) -> dict[str, Any]:
        import ray

        return {"models": self.labeller.models, "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}

    def label(self, texts: Sequence[str], claims_version: str, claims: list[Any], batch_size: int
              ) -> list[Labels]:
        if claims_version != self.claims_version:  # `claims` wraps an object ref: fetched only when it changed
            import ray

            self.labeller.set_claims(ray.get(claims[0]) if claims else ())
            self.claims_version = claims_version
        return self.labeller.label(texts, batch_size)


def connect(address: str, token: str) -> None:
    """Join the cluster as a driver, with token authentication (never without)."""
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"})
    import ray
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    Config.initialize("")  # Ray read RAY_AUTH_MODE when first imported: make it see token mode and this token now
    AuthenticationTokenLoader.instance().reset_cache()

    if ray.is_initialized():
        return
    try:
        ray.init(address=address, namespace="civicradar", log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ray.exceptions.RayError) as e:
        raise ClassifierError(
            f"cannot join the Ray cluster at {address} ({type(e).__name__}: {e}). Start it with `ray start --head` "
            "on this machine (README, Labelling on Ray), check [labels] ray_address and that the cluster was started "
            "with the same RAY_AUTH_TOKEN, or set [labels] workers = \"local\"") from e


@dataclass
class _Chunk:
    start: int
    texts: Sequence[str]


class RayLabeller:
    """The Labeller's interface (`models`, `set_claims`, `label`) over a pool of LabelWorker actors."""

    def __init__(self, actors: Sequence[Any], models: dict[str, str], chunk_size: int, timeout: float) -> None:
        self.actors, self._models = list(actors), models
        self.chunk_size, self.timeout = chunk_size, timeout
        self.slots: list[Any] = [a for _ in range(SLOTS_PER_ACTOR) for a in self.actors]  # round robin
        self.pings: dict[Any, Any] = {}  # ready() of an actor that failed a chunk -> that actor, back when it answers
        self.redone = 0  # chunks handed to another actor after theirs died (shown in the log)
        self._claims_version = "none"
        self._claims: list[Any] = []
        self.on_chunk: Callable[[int], None] | None = None  # called with each chunk's size as it comes back

    @property
    def models(self) -> dict[str, str]:
        return self._models

    def set_claims(self, claims: Sequence[Claim]) -> None:
        import ray

        self._claims = [ray.put(tuple(claims))] if claims else []
        self._claims_version = hashlib.sha256(repr(tuple(claims)).encode()).hexdigest()[:16]

    def label(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[Labels]:
        queue = deque(_Chunk(i, texts[i : i + self.chunk_size]) for i in range(0, len(texts), self.chunk_size))
        done: dict[int, list[Labels]] = {}
        inflight: dict[Any, tuple[Any, _Chunk]] = {}
        try:
            while queue or inflight:
                self._submit(queue, inflight, batch_size)
                self._collect(queue, inflight, done)
        finally:  # a run that failed (a timeout, a worker's exception) keeps its workers for the next run
            self.slots += [actor for actor, _ in inflight.values()]
        return [labels for start in sorted(done) for labels in done[start]]

    def _submit(self, queue: deque[_Chunk], inflight: dict[Any, tuple[Any, _Chunk]], batch_size: int) -> None:
        while queue and self.slots:
            actor, chunk = self.slots.pop(0), queue.popleft()
            ref = actor.label.remote(chunk.texts, self._claims_version, self._claims, batch_size)
            inflight[ref] = (actor, chunk)
        if queue and not inflight and not self.pings:
            raise ClassifierError("every Ray label worker has died and none restarts: check the cluster's nodes "
                                  "(`ray status`), or set [labels] workers = \"local\"")

    def _collect(self, queue: deque[_Chunk], inflight: dict[Any, tuple[Any, _Chunk]],
                 done: dict[int, list[Labels]]) -> None:
        import ray

        ready, _ = ray.wait([*inflight, *self.pings], num_returns=1, timeout=self.timeout)
        if not ready:
            raise ClassifierError(f"no Ray label worker answered for {self.timeout:.0f} s ([labels] "
                                  "ray_timeout_seconds): check the cluster (`ray status`); the next run retries")
        for ref in ready:
            if ref in self.pings:
                self._back(ref)
            else:
                self._take(ref, queue, inflight, done)

    def _take(self, ref: Any, queue: deque[_Chunk], inflight: dict[Any, tuple[Any, _Chunk]],
              done: dict[int, list[Labels]]) -> None:
        import ray

        actor, chunk = inflight.pop(ref)
        try:
            result = ray.get(ref)
        except ray.exceptions.RayTaskError:  # the worker's own exception (a bug, bad input): the run fails
            self.slots.append(actor)
            raise
        except ray.exceptions.RayActorError as e:  # the worker died: another one redoes its chunk now
            log.warning("label worker lost (%s): its %d posts go to another worker", type(e).__name__,
                        len(chunk.texts))
            queue.appendleft(chunk)
            self.redone += 1
            self.pings[actor.ready.options(max_task_retries=-1).remote()] = actor
            return
        done.setdefault(chunk.start, result)  # a chunk's labels are kept once
        self.slots.append(actor)
        if self.on_chunk is not None:
            self.on_chunk(len(result))

    def _back(self, ping: Any) -> None:
        import ray

        actor = self.pings.pop(ping)
        try:
            ray.get(ping)
        except ray.exceptions.RayActorError:
            log.warning("a label worker could not be restarted; %d remain", len(set(self.slots)))
            return
        self.slots.append(actor)

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)


def start_pool(topics: Sequence[Topic], models_dir: Path | None, address: str, token: str, actors: int,
               threads: int, chunk_size: int, timeout: float) -> RayLabeller:
    """Connect, start the actors and wait until each has loaded its models; refuse workers with other models."""
    connect(address, token)  # before the first `import ray`: Ray reads RAY_AUTH_MODE when it loads
    import ray

    remote = ray.remote(num_cpus=threads, max_restarts=MAX_RESTARTS, max_task_retries=0,  # chunks: redone by us
                        scheduling_strategy="SPREAD")(LabelWorker)
    handles: list[Any] = [remote.remote(tuple(topics), str(models_dir) if models_dir else None, threads)
                          for _ in range(actors)]
    expected = ModelSet(models_dir).tags()
    try:
        found = ray.get([h.ready.remote() for h in handles], timeout=timeout)
    except ray.exceptions.GetTimeoutError as e:
        raise ClassifierError(f"{actors} Ray label workers did not start within {timeout:.0f} s: the cluster may "
                              f"have fewer than {actors * threads} free CPUs (`ray status`)") from e
    for info in found:
        if info["models"] != expected:
            raise ClassifierError(f"a Ray worker has other models ({info['models']}) than the engine ({expected}): "
                                  "install the same CivicRadar version and model files on every worker machine")
    return RayLabeller(handles, expected, chunk_size, timeout)


class DeferredPool:
    """The engine's pool, started by the first labelling run: a cluster that is down fails that run (recorded, and
    the next run tries again), not the engine's start, and commands that build an engine only to collect never
    join the cluster."""

    def __init__(self, start: Callable[[], RayLabeller], models: dict[str, str]) -> None:
        self._start, self._models = start, models
        self.pool: RayLabeller | None = None
        self._claims: Sequence[Claim] = ()

    @property
    def models(self) -> dict[str, str]:
        return self._models

    def set_claims(self, claims: Sequence[Claim]) -> None:
        self._claims = claims
        if self.pool is not None:
            self.pool.set_claims(claims)

    def label(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[Labels]:
        if self.pool is None:
            self.pool = self._start()
            self.pool.set_claims(self._claims)
        return self.pool.label(texts, batch_size)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def pool_for(s: Settings) -> DeferredPool | None:
    """The engine's Ray label workers with `[labels] workers = "ray"`; None for labelling in-process."""
    if s.labels.workers != "ray":
        return None
    from .job import topics_from

    c, lab = s.classify, s.labels
    models_dir = c.models_dir and s.path(c.models_dir)
    token = lab.ray_token.get("labels.ray_token")  # now: an engine without its token does not start
    return DeferredPool(lambda: start_pool(topics_from(s), models_dir, lab.ray_address, token, lab.ray_actors,
                                           lab.ray_threads, lab.ray_chunk_size, lab.ray_timeout_seconds),
                        ModelSet(models_dir).tags())
