"""Process-wide settings that must happen before TensorFlow or torch start their thread pools.

TensorFlow and torch each default to one pool per core and would fight over the two cores this
service runs on; we give each an explicit, documented budget instead (env `WHYREC_THREADS`).
"""

from __future__ import annotations

import os

_configured = False


def thread_budget() -> int:
    return max(1, int(os.environ.get("WHYREC_THREADS", os.cpu_count() or 1)))


def configure() -> None:
    """Offline hub access, quiet TF logs and explicit thread pools; safe to call many times."""
    global _configured
    if _configured:
        return
    _configured = True
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    n = thread_budget()
    import tensorflow as tf
    import torch

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TF already initialised its pools; keep what it has.
    torch.set_num_threads(n)
