"""Run one benchmark function in several worker processes that start working together.

Each worker sets itself up (Django, its data) first; a barrier then releases
them at once, so that set-up time never counts and the load is concurrent from
the first measured moment.
"""

import multiprocessing


def _worker(target, index, ready, results, args):
    results.put(target(index, ready.wait, *args))


def run_in_processes(target, workers: int, *args) -> list:
    """``target(index, wait_for_all, *args)`` in ``workers`` spawned processes; their answers.

    ``target`` must be a module-level function (spawned processes import it) and
    call ``wait_for_all()`` once its set-up is done; its answer must pickle.
    """
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=_worker, args=(target, index, ready, results, args))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    answers = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a benchmark worker failed (exit code {process.exitcode})")
    return answers
