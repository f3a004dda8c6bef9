"""Drawings answered in batches by one thread (lab/batching.py): order, errors per item, batches formed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mnistlab.lab.batching import Batcher


def test_items_that_wait_together_are_answered_in_one_batch_in_order():
    release, calls = threading.Event(), []

    def answer(items):
        calls.append(list(items))
        if len(calls) == 1:
            release.wait(5)  # hold the thread on the first item while the others arrive
        return [item * 10 for item in items]

    batcher = Batcher(answer)

    async def main():
        first = asyncio.create_task(batcher(1))
        await asyncio.sleep(0.05)                   # the thread has taken item 1 alone
        rest = [asyncio.create_task(batcher(i)) for i in (2, 3, 4)]
        await asyncio.sleep(0.05)
        release.set()
        return await first, await asyncio.gather(*rest)

    try:
        assert asyncio.run(main()) == (10, [20, 30, 40])
    finally:
        batcher.close()
    assert calls == [[1], [2, 3, 4]] and list(batcher.batch_sizes) == [1, 3]


def test_an_error_answer_reaches_its_own_caller_and_a_raising_batch_reaches_all():
    def answer(items):
        if "boom" in items:
            raise RuntimeError("the whole batch failed")
        return [ValueError(f"bad {item}") if item == "bad" else item.upper() for item in items]

    batcher = Batcher(answer)

    async def main():
        good, bad = await asyncio.gather(batcher("good"), batcher("bad"), return_exceptions=True)
        boom = await asyncio.gather(batcher("boom"), return_exceptions=True)
        return good, bad, boom[0]

    try:
        good, bad, boom = asyncio.run(main())
    finally:
        batcher.close()
    assert good == "GOOD" and isinstance(bad, ValueError) and str(bad) == "bad bad"
    assert isinstance(boom, RuntimeError)


def test_a_batch_is_capped_and_the_rest_waits_for_the_next_turn():
    release, sizes = threading.Event(), []

    def answer(items):
        sizes.append(len(items))
        release.wait(5)
        return items

    batcher = Batcher(answer, max_batch=2)

    async def main():
        tasks = [asyncio.create_task(batcher(i)) for i in range(5)]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(*tasks)

    try:
        assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    finally:
        batcher.close()
    assert max(sizes) <= 2 and sum(sizes) == 5


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_drawings_answered_together_equal_drawings_answered_alone(lab_runs, kind):
    """One forward pass over several drawings gives each the answer it gets alone."""
    import numpy as np

    from mnistlab.data import load
    from mnistlab.lab.encode import encode_pixels
    from mnistlab.lab.models import ModelCache
    from mnistlab.lab.predict import answer_requests, predict

    run_dir = lab_runs[kind]
    cache = ModelCache()

    def runs(name):
        if name != run_dir.name:
            from mnistlab.lab.params import NotFound
            raise NotFound(f"no run {name!r}")
        return run_dir, kind, None

    bodies = [{"image": encode_pixels(np.kron(image, np.ones((5, 5), dtype=np.uint8))), "runs": [run_dir.name]}
              for image in load("mnist", "test").images[:4]]
    bodies.insert(2, {"image": [[0] * 28] * 28, "runs": ["no-such-run"]})
    together = answer_requests(bodies, runs, cache.get)
    assert "no run" in str(together[2])
    alone = [predict(body, runs, cache.get) for body in bodies[:2] + bodies[3:]]
    for a, b in zip(together[:2] + together[3:], alone):
        assert a["input"] == b["input"]
        assert np.allclose(a["results"][run_dir.name]["probabilities"], b["results"][run_dir.name]["probabilities"],
                           atol=1e-5)
        assert a["results"][run_dir.name]["prediction"] == b["results"][run_dir.name]["prediction"]
