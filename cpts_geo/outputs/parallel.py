"""Independent output tasks run on several cores, with the same results as one after the other.

The atlas writes one page per région, figures and reports; each is independent of the others
once the national analysis and the shared display data are computed. :func:`run_tasks` runs such
tasks in worker processes *forked* from the caller: they inherit everything computed so far
(nothing is pickled but the task's number and its result), and the results come back in the
order of the tasks, so the files written from them are the same bytes as a serial run's.

Workers are used only where they pay: more than one task, more than one core, and the ``fork``
start method available (Linux; elsewhere the tasks run in the calling process). The number of
workers is ``workers``, else the ``CPTS_GEO_WORKERS`` variable, else the number of cores (at most
the number of tasks); ``1`` runs everything in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["ENV_WORKERS", "run_tasks", "worker_count"]

T = TypeVar("T")

#: The environment variable that sets the number of worker processes (``1``: none).
ENV_WORKERS = "CPTS_GEO_WORKERS"

# The tasks of the run in progress, read by the forked workers (never pickled).
_TASKS: dict[int, Sequence[Callable[[], Any]]] = {}


def worker_count(n_tasks: int, workers: int | None = None) -> int:
    """How many worker processes to use for ``n_tasks`` tasks (``1``: run them here).

    Examples
    --------
    >>> worker_count(10, 1), worker_count(1, 4), worker_count(3, 8)
    (1, 1, 3)
    """
    if workers is None:
        env = os.environ.get(ENV_WORKERS, "").strip()
        workers = int(env) if env.isdigit() and int(env) > 0 else (os.cpu_count() or 1)
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(int(workers), n_tasks))


def _run(key: int, index: int) -> Any:
    return _TASKS[key][index]()


def run_tasks(tasks: Sequence[Callable[[], T]], *, workers: int | None = None,
              done: Callable[[int], None] | None = None) -> list[T]:
    """Run ``tasks`` (callables without arguments) and return their results, in order.

    Parameters
    ----------
    tasks
        The tasks. In worker processes they see the state of the caller at the time of this
        call (forked); what they return must be picklable (text, bytes, small records), and
        what they change in memory is lost.
    workers
        Worker processes (see :func:`worker_count`).
    done
        Called in the calling process with the number of each task as its result arrives (for
        a progress bar).

    Examples
    --------
    >>> squares = [lambda i=i: i * i for i in range(5)]
    >>> run_tasks(squares, workers=2) == run_tasks(squares, workers=1) == [0, 1, 4, 9, 16]
    True
    """
    n = worker_count(len(tasks), workers)
    if n <= 1:
        out = []
        for i, task in enumerate(tasks):
            out.append(task())
            if done is not None:
                done(i)
        return out
    key = id(tasks)
    _TASKS[key] = tasks
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(n, mp_context=context) as pool:
            futures = [pool.submit(_run, key, i) for i in range(len(tasks))]
            results = []
            for i, future in enumerate(futures):
                results.append(future.result())
                if done is not None:
                    done(i)
            return results
    finally:
        del _TASKS[key]
