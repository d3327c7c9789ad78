"""The shared state's contract, held by each implementation: memory, PostgreSQL and Redis."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from bot.storage.postgres_state import TABLE, PostgresState
from bot.storage.redis_state import RedisState
from bot.storage.shared_state import MemoryState, SharedState, spend
from tests.conftest import fresh_postgres_database
from tests.e2e.harness import eventually

Factory = Callable[[], SharedState]


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Engine]:
    """One migrated database for the module (creating one takes seconds); emptied per test."""
    for url in fresh_postgres_database():
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres), "redis"])
def states(request) -> Iterator[Factory]:
    """Makes instances of one implementation on one store, as separate processes would."""
    if request.param == "memory":
        state = MemoryState()
        yield lambda: state  # one process: there is no other instance to share with
    elif request.param == "postgres":
        engine = request.getfixturevalue("postgres_engine")
        with engine.begin() as db:
            db.execute(TABLE.delete())
        yield lambda: PostgresState(engine)
    else:
        url = request.getfixturevalue("redis_url")
        namespace = f"test:{uuid.uuid4().hex}:"
        yield lambda: RedisState.connect(url, namespace)


@pytest.fixture
def state(states: Factory) -> SharedState:
    return states()


def test_a_turn_is_taken_once_until_it_is_given_back(state):
    assert state.take("turn:C1", 30) == 0
    assert 29 < state.take("turn:C1", 30) <= 30
    assert state.take("turn:C2", 30) == 0  # other keys are other turns
    state.hold("turn:C1", 0)
    assert state.take("turn:C1", 30) == 0


def test_a_burst_is_allowed_then_the_wait_for_the_next_use(state):
    assert [state.take("chat:ip:1.2.3.4", 20, burst=3) for _ in range(3)] == [0, 0, 0]
    assert 19 < state.take("chat:ip:1.2.3.4", 20, burst=3) <= 20
    assert state.take("chat:ip:5.6.7.8", 20, burst=3) == 0


def test_a_held_key_refuses_turns_and_is_listed_by_prefix(state):
    state.hold("slack:turn:C1", 30)
    state.hold("slack:turn:C12", 30)
    state.hold("slack:paced:C1", 30)
    held = state.held("slack:turn:")
    assert set(held) == {"slack:turn:C1", "slack:turn:C12"}
    assert all(29 < left <= 30 for left in held.values())
    assert state.take("slack:turn:C1", 1) > 28
    state.hold("slack:turn:C1", 0)
    assert not state.is_held("slack:turn:C1")
    assert state.is_held("slack:turn:C12")  # not mistaken for a key it starts with


def test_a_prefix_is_taken_literally(state):
    state.hold("a*b_%:1", 30)
    state.hold("axb__:1", 30)
    assert set(state.held("a*b_%:")) == {"a*b_%:1"}


def test_forgetting_a_prefix_drops_its_keys_and_no_others(state):
    state.put("shopify:customer:jane@x.example", "Jane", 600)
    state.put("shopify:order:1001", "order", 600)
    state.hold("shopify:held", 600)
    state.put("shopify-like", "kept", 600)
    state.forget("shopify:")
    assert state.get("shopify:customer:jane@x.example") is None
    assert state.get("shopify:order:1001") is None and state.held("shopify:") == {}
    assert state.get("shopify-like") == "kept"


def test_holds_end_by_themselves(state):
    state.hold("slack:turn:C1", 0.2)
    assert state.is_held("slack:turn:C1")
    assert eventually(lambda: not state.is_held("slack:turn:C1"))
    assert state.take("slack:turn:C1", 30) == 0


def test_values_are_kept_for_their_time(state):
    assert state.get("shopify:order:1001") is None
    state.put("shopify:order:1001", '{"name": "#1001"}', 30)
    assert state.get("shopify:order:1001") == '{"name": "#1001"}'
    state.put("shopify:order:1001", "null", 0.2)  # replaced, with its new time
    assert state.get("shopify:order:1001") == "null"
    assert eventually(lambda: state.get("shopify:order:1001") is None)


def test_concurrent_takes_never_grant_more_than_the_burst(state):
    granted: list[float] = []

    def spend_some() -> None:
        for _ in range(10):
            if state.take("chat:visitor:v1", 60, burst=5) == 0:
                granted.append(1)

    threads = [threading.Thread(target=spend_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 5


def test_instances_on_one_store_share_it(states):
    first, second = states(), states()
    if first is second:
        pytest.skip("memory is one process's own")
    first.hold("slack:turn:C1", 30)
    first.put("shopify:order:1001", "null", 30)
    first.take("chat:ip:1.2.3.4", 60)
    assert second.is_held("slack:turn:C1")
    assert second.get("shopify:order:1001") == "null"
    assert second.take("chat:ip:1.2.3.4", 60) > 58


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_allowance_refills_one_use_per_interval():
    clock = Clock()
    state = MemoryState(clock)
    assert [state.take("k", 20, burst=3) for _ in range(3)] == [0, 0, 0]
    assert state.take("k", 20, burst=3) == 20
    clock.now = 19
    assert state.take("k", 20, burst=3) == 1
    clock.now = 20
    assert state.take("k", 20, burst=3) == 0


@given(st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=50))
def test_no_more_than_the_burst_plus_the_refill_is_ever_allowed(moments):
    moments = sorted(moments)
    allowed = 0
    full_at = None
    for moment in moments:
        wait, full_at = spend(moment, full_at, 2, 5)
        allowed += wait == 0
    assert allowed <= 5 + (moments[-1] - moments[0]) * 0.5 + 1e-9


def test_memory_forgets_the_least_recently_used_keys_when_full():
    state = MemoryState(Clock(), max_keys=2)
    state.take("a", 60)
    state.take("b", 60)
    state.put("c", "x", 60)  # "a" is forgotten, and starts afresh
    assert state.take("a", 60) == 0
    assert state.get("c") == "x"  # used since "b" was: "b" made way for "a"
    assert state.take("b", 60) == 0


@pytest.mark.postgres
def test_postgres_rows_past_their_time_are_swept_away(postgres_engine):
    state = PostgresState(postgres_engine)
    state.hold("slack:turn:C9", 0)  # let go: its row is dead
    state.put("shopify:order:9", "null", 30)  # a process's first write sweeps
    with postgres_engine.connect() as db:
        keys = {row.key for row in db.execute(TABLE.select())}
    assert "shopify:order:9" in keys
    assert "slack:turn:C9" not in keys
