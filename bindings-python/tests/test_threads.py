"""One engine shared by many threads: same answers as one thread, atomic
reloads, and the GIL released around work that takes time."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterator, List

import pytest

import tessera
from conftest import NOW, SESSION_KEY, Provider

ACTIONS = ["read", "create", "update", "delete", "push", "pull", "execute"]
TYPES = ["device", "user", "stream", "token", "client", "project", "cluster", "program"]
PRINCIPALS: List[Dict[str, Any]] = [
    {"id": "u-1", "roles": ["user"]},
    {"id": "u-2", "roles": ["admin"]},
    {"id": "u-7"},
    {"id": "u-3", "groups": ["managers", "robot-operators"]},
    {"id": "u-4", "roles": ["owner"], "limits": ["read_device"]},
]


def requests() -> List[Any]:
    out = []
    for p in PRINCIPALS:
        for a in ACTIONS:
            for t in TYPES:
                for r in ({"type": t}, {"type": t, "id": "dev-42", "owner": "u-1"}, {"type": t, "id": "x", "owner": "u-9"}):
                    out.append((p, a, r))
    return out


def test_shared_engine_gives_the_same_answers(engine: tessera.Engine) -> None:
    work = requests()
    expected = [engine.authorize(p, a, r).to_dict() for p, a, r in work]
    prepared = [engine.prepare(p) for p in PRINCIPALS]

    def run(seed: int) -> List[Any]:
        out = []
        for i in range(len(work)):
            p, a, r = work[(i + seed) % len(work)]
            out.append(((i + seed) % len(work), engine.authorize(p, a, r).to_dict()))
            fast = prepared[PRINCIPALS.index(p)]
            assert fast.is_allowed(a, r["type"], r.get("id"), r.get("owner")) is out[-1][1]["allowed"]
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        for result in pool.map(run, range(16)):
            for index, decision in result:
                assert decision == expected[index]


def test_batches_and_tokens_in_parallel(engine: tessera.Engine, provider: Provider) -> None:
    token = provider.token()
    fast = engine.prepare({"id": "u-1", "roles": ["user"]})
    batch = [("read", {"type": "device", "id": str(i), "owner": "u-1" if i % 2 else "u-2"}) for i in range(2000)]
    want = [i % 2 == 1 for i in range(2000)]
    grant = engine.issue_session({"id": "s"}, SESSION_KEY, NOW)

    def job(i: int) -> None:
        assert engine.authorize_batch(fast, batch) == want
        engine.clear_token_cache() if i % 3 == 0 else None
        assert engine.verify_jwt(token, provider.jwks, NOW)["id"] == "u-9"
        assert engine.verify_session(grant["token"], SESSION_KEY, NOW + 1)["id"] == "s"
        made = engine.create_api_token("d", [], NOW)
        assert engine.verify_api_token(made["secret"], [made["record"]], NOW)["id"] == "d"

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(job, range(24)))


def test_reload_while_deciding_is_atomic(engine: tessera.Engine) -> None:
    allow = {"version": 1, "roles": {"r": {"permissions": ["read_device"]}}}
    deny = {"version": 1, "roles": {"r": {"permissions": ["!read_device"]}}}
    broken = {"version": 1, "roles": {"r": {"permissions": ["read_"]}}}
    engine.load(allow)
    fast = engine.prepare({"roles": ["r"]})
    stop = threading.Event()
    seen: List[Any] = []

    def reader() -> None:
        while not stop.is_set():
            for d in (engine.authorize({"roles": ["r"]}, "read", {"type": "device"}), fast.authorize("read", {"type": "device"})):
                seen.append((d.allowed, d.reason, d.rule))

    failures: List[BaseException] = []

    def writer() -> None:
        try:
            for i in range(300):
                engine.load(deny if i % 2 else allow)
                try:
                    engine.load(broken)
                    failures.append(AssertionError("a broken policy loaded"))
                except tessera.PolicyError:
                    pass
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    # Every decision was made against one whole policy: never a broken or empty one.
    assert seen and set(seen) <= {(True, "allowed", "read_device"), (False, "denied", "!read_device")}


@pytest.fixture()
def no_voluntary_switching() -> Iterator[None]:
    """Python threads switch only when one blocks or a native call releases
    the GIL, so a counting thread advances only while the GIL is released."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def progress_of_another_thread_during(call: Callable[[], Any]) -> int:
    count = 0
    stop = False
    started = threading.Event()

    def counter() -> None:
        nonlocal count
        started.set()
        while not stop:
            count += 1
            time.sleep(1e-4)  # releases the GIL; returns only when it can take it back

    t = threading.Thread(target=counter)
    t.start()
    started.wait()
    before = count
    call()
    after = count
    stop = True
    t.join()
    return after - before


def test_the_gil_is_released_around_batches_and_crypto(
    engine: tessera.Engine, provider: Provider, no_voluntary_switching: None
) -> None:
    fast = engine.prepare({"id": "u-1", "roles": ["user"]})
    big = [("read", {"type": "device", "id": "d", "owner": "u-1"})] * 200_000
    assert progress_of_another_thread_during(lambda: engine.authorize_batch(fast, big)) > 0

    tokens = [provider.token(jti=str(i)) for i in range(200)]

    def verify_all() -> None:
        for t in tokens:
            engine.verify_jwt(t, provider.jwks, NOW)

    engine.clear_token_cache()
    assert progress_of_another_thread_during(verify_all) > 0

    # The control: the same kind of work holding the GIL lets nobody else run.
    def hold() -> None:
        for _ in range(200_000):
            fast.is_allowed("read", "device", "d", "u-1")

    assert progress_of_another_thread_during(hold) == 0
