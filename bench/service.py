"""Service benchmark: load with wrk (template and LLM reasons) and a schemathesis fuzz run.

    python bench/service.py --model ARTIFACTS [--seconds 60] [--connections 50] [--llm small|default]
                            [--fuzz-cases 1000] [--swap] [--json]

Starts `whyrec serve` on 127.0.0.1 (one uvicorn process), waits for /readyz, then:
1. cold: wrk against the other half (every first request computes recommendations, integrated
   gradients, facts and template reasons; repeats within the run are cache hits);
2. warm: the same load on the most active half of the shoppers, whose responses the server
   precomputed after start (`WHYREC_PRECOMPUTE`, cached per model version); then again while other shoppers
   post a purchase every second (a live shop's events must not empty the cache), ending with a promotion
   stored mid-run that must show in the next list;
3. LLM reasons (`explain: llm`: each request waits for the model up to its deadline; separate server with
   the narrator model): latency, fallback share
   (from /metrics), and 5xx count under the same load;
4. fuzz: schemathesis over the running app's OpenAPI; any 5xx is a failure;
5. with `--swap`: the warm load again on a copy of the artifacts root while its two newest versions are
   promoted and rolled back twice through the admin API (0 non-2xx and 0 server 5xx expected).
wrk needs Debian's `wrk` package; schemathesis is a dev dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EVENTS_TOKEN = "bench-service-events"
ADMIN_TOKEN = "bench-service-admin"

WRK_SCRIPT = """
local users = {%s}
local n = 0
request = function()
  n = n + 1
  local u = users[((n * 7919) %% #users) + 1]
  local body = '{"user_id":"' .. u .. '","k":%d,"lang":"%s","explain":"%s"}'
  return wrk.format("POST", "/v1/recommendations", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("JSON{\\"requests\\":%%d,\\"seconds\\":%%f,\\"p50_ms\\":%%f,\\"p90_ms\\":%%f,"
    .. "\\"p99_ms\\":%%f,\\"non2xx\\":%%d,\\"socket_errors\\":%%d,\\"timeouts\\":%%d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write, summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, port: int, backend: str, llm: str | None, events: Path,
                 precompute: int = 0, workers: int = 1, env_extra: dict | None = None) -> subprocess.Popen:
    env = {"WHYREC_EVENTS_TOKEN": EVENTS_TOKEN, "WHYREC_ADMIN_TOKEN": ADMIN_TOKEN, **os.environ,
           "WHYREC_EVENTS": str(events), "HF_HUB_OFFLINE": "1",
           "WHYREC_PRECOMPUTE": str(precompute), **(env_extra or {})}
    cmd = [sys.executable, "-m", "service.cli", "serve", "--model", str(model), "--port", str(port),
           "--backend", backend, "--workers", str(workers)] + (["--llm", llm] if llm else [])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {' '.join(cmd)}")
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server not ready after 300 s")


def wait_precomputed(port: int) -> float:
    """Seconds until the server's background precompute (WHYREC_PRECOMPUTE) has finished."""
    start = time.perf_counter()
    while True:
        body = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
        if body["precomputed"] >= body["precompute_total"]:
            return time.perf_counter() - start
        time.sleep(1)


def wrk(port: int, users: list[str], seconds: int, connections: int, lang: str, explain: str, k: int = 10) -> dict:
    script = WRK_SCRIPT % (",".join(json.dumps(u) for u in users), k, lang, explain)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", f.name,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    result = json.loads(re.search(r"JSON(\{.*\})", out).group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def freshness(port: int, users: list[str], stop: threading.Event) -> dict:
    """While the load runs: a shopper buys their top item (POST /v1/events), then asks for their list again.
    The POST answers once the event is stored *and* applied, so its latency is the freshness lag; the list
    after it shows whether it was reflected (and how long a list takes under this load)."""
    seconds, posts, reflected = [], [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        def top(user: str) -> list[str]:
            body = {"user_id": user, "k": 10, "lang": "en", "explain": "template"}
            return [i["item_id"] for i in http.post("/v1/recommendations", json=body).json()["items"]]

        for n, user in enumerate(users):
            if stop.is_set():
                break
            first = top(user)
            start = time.perf_counter()
            r = http.post("/v1/events", headers={"authorization": f"Bearer {EVENTS_TOKEN}"}, json={"events": [
                {"user_id": user, "item_id": first[0], "event": "purchase", "event_id": f"fresh-{n}-{start}"}]})
            posts.append(time.perf_counter() - start)
            after = top(user)
            seconds.append(time.perf_counter() - start)
            reflected += r.status_code == 200 and first[0] not in after
    ms = np.asarray(seconds) * 1000 if seconds else np.zeros(1)
    post_ms = np.asarray(posts) * 1000 if posts else np.zeros(1)
    return {"checks": len(seconds), "reflected": reflected, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "post_p50_ms": float(np.percentile(post_ms, 50)),
            "post_p99_ms": float(np.percentile(post_ms, 99))}


def events_flowing(port: int, users: list[str], stop: threading.Event, every_s: float = 1.0) -> dict:
    """While the load runs: one of `users` (shoppers outside the load) buys an item every `every_s` seconds."""
    posted, failed = 0, 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        items = [i["item_id"] for i in http.post("/v1/recommendations", json={"user_id": users[0], "k": 20,
                                                                                "explain": "none"}).json()["items"]]
        while not stop.wait(every_s):
            user, item = users[posted % len(users)], items[posted % len(items)]
            r = http.post("/v1/events", headers={"authorization": f"Bearer {EVENTS_TOKEN}"}, json={"events": [
                {"user_id": user, "item_id": item, "event": "purchase", "event_id": f"flow-{posted}-{time.time()}"}]})
            posted += r.status_code == 200
            failed += r.status_code != 200
    return {"posted": posted, "failed": failed}


def promotion_shows(port: int, user: str) -> dict:
    """Store a promotion on the shopper's top item (cached list) and time until the next list says so."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        body = {"user_id": user, "k": 10, "lang": "en", "explain": "template"}
        item = http.post("/v1/recommendations", json=body).json()["items"][0]["item_id"]
        now = time.time()
        start = time.perf_counter()
        r = http.put("/v1/promotions", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}, json={"promotions": [
            {"item_id": item, "label": "20% off", "start": now - 60, "end": now + 3600, "campaign": "bench"}]})
        r.raise_for_status()
        listed = http.post("/v1/recommendations", json=body).json()["items"]
        shown = any(i["item_id"] == item and "promotion" in [f["kind"] for f in i["facts"] or []] for i in listed)
        http.delete("/v1/promotions/bench", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    return {"shown_next_list": shown, "seconds": time.perf_counter() - start}


def beside(check, port: int, users: list[str], run) -> tuple[dict, dict]:
    """`run()` (a wrk load) with `check(port, users, stop)` going on beside it (the freshness check, or other
    shoppers' purchases flowing); returns both results."""
    stop, found = threading.Event(), {}
    checker = threading.Thread(target=lambda: found.update(check(port, users, stop)))
    checker.start()
    result = run()
    stop.set()
    checker.join()
    return result, found


def swaps(port: int, versions: list[str], rounds: int, pause_s: float) -> list[dict]:
    """Promote the other version and roll back, `rounds` times, through the admin API: each answer comes
    after the service has switched. Returns each move's version and seconds."""
    moves = []
    auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
        for _ in range(rounds):
            for path, body in (("promote", {"version": versions[1]}), ("rollback", {})):
                time.sleep(pause_s)
                start = time.perf_counter()
                r = http.post(f"/v1/admin/model/{path}", json=body, headers=auth)
                r.raise_for_status()
                moves.append({"move": path, "serving": r.json()["serving"], "seconds": time.perf_counter() - start})
    return moves


def swap_run(root: Path, tmp: Path, users: list[str], seconds: int, connections: int) -> dict:
    """Load on a copy of the artifacts root (its two newest versions) while the served label moves 2 × there
    and back: wrk's non-2xx and the server's 5xx must both be 0."""
    from ranker import versions

    names = [v.name for v in versions.versions(root)][-2:]
    copy = tmp / "swap-artifacts"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("events.db*", "labels.json"))
    versions.promote(copy, names[0], "production", "bench start")
    port = free_port()
    proc = start_server(copy, port, "none", None, tmp / "events-swap.db")
    try:
        moves: list[dict] = []
        mover = threading.Thread(target=lambda: moves.extend(swaps(port, names, 2, seconds / 6)))
        mover.start()
        result = wrk(port, users, seconds, connections, "en", "template")
        mover.join()
        result.update(moves=moves, server_5xx=server_errors(scrape(port)), versions=names)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def written_ahead_run(model: Path, tmp: Path, shoppers: int, seconds: int, connections: int, llm: str) -> dict:
    """`explain: auto` on the shoppers a `whyrec batch` store covers (top 5, zh then en): the share of served
    reasons the model wrote (from the store) rather than the template."""
    from ranker import artifacts
    from ranker.data import load_shop
    from ranker.split import target_kind

    events = load_shop(artifacts.resolve(model) / "shop").events
    users = [str(u) for u in events[events["event"] == target_kind(events)]["user_id"].value_counts().index[:shoppers]]
    port = free_port()
    proc = start_server(model, port, "llama.cpp", llm, tmp / "events-ahead.db",
                        env_extra={"WHYREC_LLM_PRECOMPUTE": "0", "WHYREC_WARM": "false"})
    def served_reasons() -> Counter:
        """One request per shopper and language: the bodies the load is served (cached once final)."""
        served: Counter = Counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for user in users:
                for lang in ("zh", "en"):
                    body = {"user_id": user, "k": 5, "lang": lang, "explain": "auto"}
                    for item in http.post("/v1/recommendations", json=body).json()["items"]:
                        e = item["explanation"]
                        served["model" if e and not e["fallback_used"] and e["model_id"] != "template"
                               else "template"] += 1
        return served

    try:
        served_reasons()  # warm-up: each list computed once, as the warm run's precompute does for templates
        runs = [wrk(port, users, seconds // 2, connections, lang, "auto", k=5) for lang in ("zh", "en")]
        metrics = scrape(port)
        served = served_reasons()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"runs": runs, "outcomes": reason_outcomes(metrics), "served": dict(served),
            "model_written_share": served["model"] / max(sum(served.values()), 1),
            "server_5xx": server_errors(metrics), "shoppers": len(users)}


def workers_run(model: Path, tmp: Path, users: list[str], seconds: int, connections: int) -> dict:
    """The cold template load on `whyrec serve --workers 2`; /metrics must count every request wrk sent."""
    port = free_port()
    proc = start_server(model, port, "none", None, tmp / "events-workers.db", workers=2)
    try:
        time.sleep(20)  # /readyz answered by one worker; give the other time to load too
        result = wrk(port, users, seconds, connections, "en", "template")
        time.sleep(10)  # requests wrk left in flight finish (wrk counts only completed ones)
        before = recommendation_requests(scrape(port))
        sent = 200
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for n in range(sent):  # new connections, so both workers answer some
                http.post("/v1/recommendations", json={"user_id": users[n % 20], "k": 10, "explain": "none"},
                          headers={"connection": "close"}).raise_for_status()
        after = recommendation_requests(scrape(port))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {**result, "metrics_before": before, "exact_sent": sent, "exact_counted": after - before}


def recommendation_requests(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("requests_total") and "/v1/recommendations" in k)


def scrape(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'whyrec_(requests_total|explanations_total)\{(.*)\} ([0-9.e+]+)', line)
        if m:
            out[f"{m.group(1)}{{{m.group(2)}}}"] = float(m.group(3))
    return out


def reason_outcomes(metrics: dict[str, float]) -> dict[str, float]:
    """Served reasons by outcome (accepted, retried: the model's; template, pending, queue_full, …: not)."""
    return {k.split('outcome="')[1].split('"')[0]: v for k, v in metrics.items() if k.startswith("explanations_total")}


def server_errors(metrics: dict[str, float]) -> int:
    """5xx answers, except /readyz's 503 while the models load (the start-up poll asks for those)."""
    return int(sum(v for k, v in metrics.items()
                   if k.startswith("requests_total") and 'status="5' in k and 'route="/readyz"' not in k))


def fuzz(port: int, cases: int) -> dict:
    exe = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    per_op = max(cases // 7, 50)
    start = time.perf_counter()
    proc = subprocess.run([exe, "--no-color", "run", f"http://127.0.0.1:{port}/openapi.json", "--checks",
                           "not_a_server_error",
                           "--max-examples", str(per_op), "--mode", "all",
                           "--suppress-health-check", "all"], capture_output=True, text=True)
    tail = proc.stdout[-3000:]
    found = re.findall(r"(\d+) generated", proc.stdout)
    return {"exit_code": proc.returncode, "generated_cases": int(found[-1]) if found else None,
            "seconds": time.perf_counter() - start, "tail": tail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--llm", default="small", help="narrator model for the LLM run ('' to skip)")
    parser.add_argument("--fuzz-cases", type=int, default=1000)
    parser.add_argument("--written-ahead", type=int, default=0, metavar="N",
                        help="also: explain=auto load on the N most active shoppers, served from the reason store "
                        "`whyrec batch` wrote in the artifacts root (reasons/), with the --llm model")
    parser.add_argument("--workers", action="store_true", help="also: the cold template run on --workers 2")
    parser.add_argument("--swap", action="store_true", help="also: promote and roll back the root's two newest "
                        "versions twice under load (needs a root with two versions; runs on a copy)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    sys.path.insert(0, str(ROOT))
    from ranker import artifacts
    from ranker.ranking import Ranker

    ranker = Ranker.from_artifact(artifacts.load(args.model))
    users = [str(u) for u in ranker.stats.user_ids]
    warm_users = ranker.most_active(len(users) // 2)
    cold_users = sorted(set(users) - set(warm_users))
    del ranker
    out: dict = {"shoppers": len(users)}
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(args.model, port, "none", None, Path(tmp) / "events.db", len(warm_users))
        try:
            out["warm_up_s"] = wait_precomputed(port)
            out["cold"], out["fresh_cold"] = beside(freshness, port, cold_users[::-7][:300], lambda: wrk(
                port, cold_users, args.seconds, args.connections, "en", "template"))
            out["warm"], out["fresh_warm"] = beside(freshness, port, warm_users[::7][:300], lambda: wrk(
                port, warm_users, args.seconds, args.connections, "en", "template"))
            out["warm_events"], out["flow"] = beside(events_flowing, port, cold_users[:50], lambda: wrk(
                port, warm_users, args.seconds, args.connections, "en", "template"))
            out["promotion"] = promotion_shows(port, warm_users[0])
            out["template_5xx"] = server_errors(scrape(port))
            if args.fuzz_cases:
                out["fuzz"] = fuzz(port, args.fuzz_cases)
                out["fuzz_5xx"] = server_errors(scrape(port)) - out["template_5xx"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if args.workers:
            out["workers2"] = workers_run(args.model, Path(tmp), cold_users, args.seconds, args.connections)
        if args.written_ahead:
            out["ahead"] = written_ahead_run(args.model, Path(tmp), args.written_ahead, args.seconds,
                                             args.connections, args.llm or "small")
        if args.swap:
            out["swap"] = swap_run(args.model, Path(tmp), warm_users, args.seconds, args.connections)
        if args.llm:
            port = free_port()
            proc = start_server(args.model, port, "llama.cpp", args.llm, Path(tmp) / "events2.db")
            try:
                out["llm"] = wrk(port, cold_users, args.seconds, args.connections, "zh", "llm")
                metrics = scrape(port)
                out["llm"].update(outcomes=reason_outcomes(metrics), server_5xx=server_errors(metrics))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['shoppers']} shoppers; {args.connections} connections x {args.seconds} s per run (wrk, 127.0.0.1)")
    print(f"{'run':34}{'rps':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sock err':>9}")
    runs = [("template reasons, cold shoppers", out["cold"]), ("template reasons, warm cache", out["warm"]),
            ("warm cache, a purchase every 1 s", out["warm_events"])]
    if "llm" in out:
        runs.append((f"LLM reasons (llm, {args.llm}), zh", out["llm"]))
    for name, r in runs:
        print(f"{name:34}{r['rps']:9.1f}{r['p50_ms']:9.1f}{r['p90_ms']:9.1f}{r['p99_ms']:9.1f}{r['non2xx']:9d}"
              f"{r['socket_errors'] + r['timeouts']:9d}")
    for run in ("cold", "warm"):
        f = out[f"fresh_{run}"]
        print(f"freshness during the {run} run: a purchase posted, then the list asked again: {f['reflected']}/"
              f"{f['checks']} reflected; POST (stored + applied) p50 {f['post_p50_ms']:.0f} ms, p99 "
              f"{f['post_p99_ms']:.0f} ms; POST + next list p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms")
    print(f"events flowing during the warm-cache run: {out['flow']['posted']} purchases posted by other shoppers "
          f"({out['flow']['failed']} failed); a promotion stored after it shows in the next list: "
          f"{out['promotion']['shown_next_list']} ({out['promotion']['seconds'] * 1000:.0f} ms)")
    print(f"precompute of the {len(warm_users)} most active shoppers (zh + en) after ready: {out['warm_up_s']:.1f} s; "
          f"5xx in template runs: {out['template_5xx']}")
    if "workers2" in out:
        w = out["workers2"]
        print(f"cold template run, --workers 2: {w['rps']:.1f} rps (p99 {w['p99_ms']:.0f} ms, non-2xx {w['non2xx']}) "
              f"vs 1 worker {out['cold']['rps']:.1f} rps: ratio {w['rps'] / out['cold']['rps']:.2f}; /metrics counted "
              f"{w['metrics_before']:.0f} recommendation requests (wrk completed {w['requests']}, more were in "
              f"flight when it stopped); then exactly {w['exact_sent']} sent, {w['exact_counted']:.0f} counted")
    if "ahead" in out:
        a = out["ahead"]
        lat = ", ".join(f"{lang} {r['rps']:.1f} rps p99 {r['p99_ms']:.0f} ms non-2xx {r['non2xx']}"
                        for lang, r in zip(("zh", "en"), a["runs"], strict=True))
        print(f"written ahead ({a['shoppers']} shoppers, explain=auto, top 5): {lat}; model-written share "
              f"{a['model_written_share']:.1%} of the served reasons {a['served']} (reasons computed during the "
              f"load: {a['outcomes']}); server 5xx {a['server_5xx']}")
    if "swap" in out:
        w = out["swap"]
        moves = ", ".join(f"{m['move']} → {m['serving']} {m['seconds']:.1f} s" for m in w["moves"])
        print(f"model swaps under load ({w['rps']:.1f} rps, p99 {w['p99_ms']:.0f} ms): {moves}; non-2xx "
              f"{w['non2xx']}, socket errors {w['socket_errors'] + w['timeouts']}, server 5xx {w['server_5xx']}")
    if "llm" in out:
        total = sum(out["llm"]["outcomes"].values()) or 1
        shares = ", ".join(f"{k} {v / total:.1%}" for k, v in sorted(out["llm"]["outcomes"].items()))
        print(f"LLM run reasons: {shares}; server 5xx: {out['llm']['server_5xx']}")
    if "fuzz" in out:
        f = out["fuzz"]
        print(f"schemathesis: exit {f['exit_code']}, {f['generated_cases']} cases in {f['seconds']:.0f} s, "
              f"5xx seen by the server: {out['fuzz_5xx']}")


if __name__ == "__main__":
    main()
