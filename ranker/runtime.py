"""Process-wide settings that must happen before TensorFlow or torch start their thread pools.

TensorFlow and torch each default to one pool per core and would fight over the two cores this
service runs on; we give each an explicit budget instead (the `threads` setting, `WHYREC_THREADS`).
"""

from __future__ import annotations

import os

_configured = False


def configure(threads: int | None = None) -> None:
    """Offline hub access, quiet TF logs and explicit thread pools (`threads`, default every core the process may
    run on); safe to call many times: the first call decides."""
    global _configured
    if _configured:
        return
    _configured = True
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    n = max(1, threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    import tensorflow as tf
    import torch

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TF already initialised its pools; keep what it has.
    torch.set_num_threads(n)
