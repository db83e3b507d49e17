"""A process forked while a fit runs in another thread: what the child sees."""

import os
import threading


def child_answer_beside(held, child):
    """The bytes ``child()`` returns in a process forked while another thread is inside
    the context manager ``held()`` (a fit running, as multiprocessing's "fork" beside a
    thread pool leaves it). The child does no torch work (OpenMP after a fork) beyond
    what ``child`` does, and ends with ``os._exit``."""
    started, done = threading.Event(), threading.Event()

    def hold():
        with held():
            started.set()
            done.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    started.wait(10)
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.write(write, child())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as answer:
            said = answer.read()
        os.waitpid(pid, 0)
    finally:
        done.set()
        worker.join()
    return said
