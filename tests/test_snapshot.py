"""A restart reads the shoppers' rows from the last snapshot and replays only the events after it, with the
same rows a full replay gives; a snapshot that no longer describes the shop (or is damaged) is ignored."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from ranker.stats.behaviour import USER_DENSE, USER_SPARSE


def load(trained, events, snapshots=True, every=10):
    from service.settings import Settings
    from service.shop.live import LiveShop
    from service.stack import Stack

    settings = Settings(artifacts=trained[1], events=events, backend="none", warm=False, snapshots=snapshots,
                        snapshot_every=every)
    live = LiveShop()
    return Stack.load(settings, live=live), live


def post(live, users, items, n, seed):
    from service.shop.store import Event

    rng = np.random.default_rng(seed)
    events = [Event(str(users[rng.integers(len(users))]), str(items[rng.integers(len(items))]),
                    str(rng.choice(["view", "purchase"])), time.time()) for _ in range(n)]
    live.ingest(events)[1].result(timeout=30)


def rows(stack, users):
    stats = stack.ranker.stats
    at = stats.rows_of(users)
    out = {}
    for name in (*USER_SPARSE, *USER_DENSE):
        values = getattr(stats, name)[at]
        out[name] = values.toarray() if sp.issparse(values) else np.asarray(values)
    out["history"] = [list(stats.history_of(r)) for r in at]
    return out


@pytest.mark.slow
def test_a_restart_replays_only_what_came_after_the_snapshot(trained, tmp_path):
    from service.shop.snapshot import path_for

    events = tmp_path / "events.db"
    stack, live = load(trained, events)
    users = [*map(str, stack.ranker.stats.user_ids[:20]), "new-1", "new-2"]
    items = list(stack.ranker.items.index[:30])
    post(live, users, items, 12, 0)  # past snapshot_every: a snapshot is written in the background
    live.close()
    snapshot = path_for(events, stack.version)
    assert snapshot.is_file()
    stack, live = load(trained, events)
    assert live.applied == 0
    post(live, users, items, 5, 1)  # after the snapshot
    live.close()

    restarted, live = load(trained, events, every=1_000)
    assert live.applied == 5
    replayed, full = load(trained, events, snapshots=False)
    assert full.applied == 17
    a, b = rows(restarted, users), rows(replayed, users)
    for name in a:  # float32 sums grouped differently: equal to float32 precision
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name) if name != "history" else \
            np.testing.assert_equal(a[name], b[name])
    live.close()
    full.close()

    snapshot.write_bytes(b"not a snapshot")
    _, live = load(trained, events)
    assert live.applied == 17  # damaged: the full replay, and the service still starts
    live.close()
