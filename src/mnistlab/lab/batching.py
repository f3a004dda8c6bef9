"""Work answered in batches by one thread: how the lab answers drawings under load (issue 23).

A drawing client keeps one request in flight and sends the next as soon as it is answered, so
with several clients the CPU is the queue. Forward passes in many threads made it worse: threads
taking turns on the GIL turned a 4 ms Keras forward pass into 50-200 ms, since each of its many
GIL releases waits out the switch interval behind the others. So one thread does the work, and
the requests that arrive while it works are answered together at its next turn: four drawings
go through the CNN in one forward pass of about 5 ms instead of four of 4 ms. Model servers
batch the same way (TF Serving's batching, Ray Serve's `@serve.batch`).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

MAX_BATCH = 32  # at most this many items per turn; the rest wait for the next one


class Batcher(Generic[Item, Answer]):
    """`await batcher(item)`: `answer(items) -> answers` runs in one thread over every item waiting for it.

    `answer` returns one answer per item, in order; an answer that is an exception is raised to that
    item's caller alone, and if `answer` raises, every item of the batch gets the exception. An item whose caller went away (its future cancelled) is answered and dropped.
    """

    def __init__(self, answer: Callable[[list[Item]], list[Answer]], name: str = "batcher",
                 max_batch: int = MAX_BATCH) -> None:
        self._answer = answer
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # the sizes of the latest turns that answered something

    async def __call__(self, item: Item) -> Answer:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            self._waiting.append((item, future, loop))
        self._thread.submit(self._turn)  # one turn per item: a turn that finds nothing waiting returns at once
        return await future

    def _turn(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
        if not batch:
            return
        self.batch_sizes.append(len(batch))
        try:
            answers = self._answer([item for item, _, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch, raised in its route
            for _, future, loop in batch:
                _hand_over(loop, future, None, exc)
            return
        for (_, future, loop), answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                _hand_over(loop, future, None, answer)
            else:
                _hand_over(loop, future, answer, None)

    def close(self) -> None:
        """Stop the thread once the current turn ends; items still waiting are not answered."""
        self._thread.shutdown(wait=False, cancel_futures=True)


def _hand_over(loop: asyncio.AbstractEventLoop, future: asyncio.Future, answer: object,
               error: BaseException | None) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, answer, error)
    except RuntimeError:  # the event loop has closed: the server stopped, nobody waits any more
        pass


def _settle(future: asyncio.Future, answer: object, error: BaseException | None) -> None:
    if future.done():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)
