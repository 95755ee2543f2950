"""Kernel threads per task: the cores divided among the tasks that run at once.

A dask scheduler already runs tasks in parallel; a kernel that also starts one
OpenMP thread per core in every task would oversubscribe the machine (with 2
workers on 2 cores, 4 threads fighting for 2 cores). So by default a task's kernel
gets ``max(1, cores // parallel tasks)`` threads, where the cores are the backend's
default thread count (``OMP_NUM_THREADS``; distributed's nannies set it to 1 in
their workers) and the parallel tasks are, decided in the task itself:

* inside a ``distributed`` worker: the threads of every worker in this process (all
  of them with ``LocalCluster(processes=False)``);
* in a thread of dask's local threaded scheduler: its pool size (``num_workers`` of
  ``dask.config``, else the machine's cores);
* in a child process of dask's ``processes`` scheduler: the same count of processes;
* in the main thread of the main process (the ``sync`` scheduler, a plain call): 1.

``num_threads`` of the public functions overrides this.
"""
import multiprocessing
import sys
import threading

__all__ = ["parallel_tasks", "task_threads"]


def _distributed_threads():
    """Threads of the distributed workers in this process, or 0 outside a worker."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return 0
    try:
        distributed.get_worker()
    except ValueError:   # not running in a worker's task
        return 0
    # closed workers of earlier clusters may linger in the weak set until collected
    workers = [w for w in list(getattr(distributed.Worker, "_instances", ()))
               if getattr(getattr(w, "status", None), "name", "running") in ("running",
                                                                             "paused")]
    return sum(max(1, int(getattr(w, "nthreads", 1) or 1)) for w in workers) or 1


def _local_pool_size():
    import dask
    from dask.system import CPU_COUNT
    return int(dask.config.get("num_workers", None) or CPU_COUNT)


def parallel_tasks():
    """How many tasks may run at once beside the calling one (itself included)."""
    n = _distributed_threads()
    if n:
        return n
    if threading.current_thread() is not threading.main_thread():
        return _local_pool_size()
    if multiprocessing.parent_process() is not None:
        return _local_pool_size()
    return 1


def task_threads(requested, impl):
    """The kernel threads of one task: ``requested`` if given, else the backend's
    default divided by :func:`parallel_tasks`."""
    if requested is not None:
        return requested
    return max(1, int(impl.max_threads()) // parallel_tasks())
