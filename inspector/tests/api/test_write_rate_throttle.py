"""The write rate limit keeps one integer per user, scope and window (inspector/throttles.py).

Most tests drive the throttle directly with a fresh local-memory cache and a
fake clock; the last ones go through the ingest endpoint for the 429 and its
Retry-After.
"""

import os
import threading
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from inspector.throttles import WriteRateThrottle
from testkit.factories import trace_body

WINDOW_START = 1_800_000_000.0  # a multiple of 60 and 3600: the start of a minute and of an hour


class Clock:
    """A settable time.time (an instance, so assigning it to the class does not bind it as a method)."""

    def __init__(self, now=WINDOW_START):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def store():
    return LocMemCache(f"throttle-test-{uuid.uuid4()}", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(store, clock):
    def make():
        instance = WriteRateThrottle()
        instance.cache, instance.timer = store, clock
        return instance
    return make


def post(user_pk=7):
    return SimpleNamespace(method="POST", user=SimpleNamespace(is_authenticated=True, pk=user_pk), META={})


def view(scope="ingest", cost=None):
    found = SimpleNamespace(throttle_scope=scope)
    if cost is not None:
        found.throttle_cost = lambda request: cost
    return found


def allowed(throttle, cost=None, user_pk=7):
    return throttle().allow_request(post(user_pk), view(cost=cost))


def test_the_stored_value_is_one_integer_however_many_requests_came(throttle, store, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "100000/minute"}
    assert allowed(throttle)
    assert len(store._cache) == 1
    for _ in range(2_999):
        assert allowed(throttle)
    assert len(store._cache) == 1  # still one key for this user and scope
    assert store.get("throttle:ingest:7:60:30000000") == 3_000  # one int, not 3,000 timestamps


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"), reason="needs Redis")
def test_on_redis_the_counter_is_a_plain_integer_incremented_in_place(throttle, clock, settings):
    from django.core.cache.backends.redis import RedisCache

    prefix = f"throttle-test-{uuid.uuid4()}"
    redis_cache = RedisCache(os.environ["CELERY_BROKER_URL"], {"KEY_PREFIX": prefix})
    settings.OPS_THROTTLE_RATES = {"ingest": "100000/minute"}
    instance = throttle()
    instance.cache = redis_cache
    client = redis_cache._cache.get_client(None)
    try:
        for _ in range(500):
            assert instance.allow_request(post(), view())
        keys = client.keys(f"{prefix}:*")
        assert len(keys) == 1 and client.get(keys[0]) == b"500"
        assert 60 < client.ttl(keys[0]) <= 120  # lives on as the next window's previous count
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)


def test_a_request_costs_its_weight_and_passes_only_if_all_of_it_fits(throttle, store, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "5/minute"}
    assert allowed(throttle, cost=3)
    assert not allowed(throttle, cost=3)  # 3 + 3 > 5
    assert allowed(throttle, cost=2)  # 3 + 2 = 5
    assert not allowed(throttle, cost=1)
    assert store.get("throttle:ingest:7:60:30000000") == 5  # refusals were taken back


def test_users_and_scopes_count_apart(throttle, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "1/minute", "pipeline": "1/minute"}
    assert allowed(throttle, user_pk=1) and not allowed(throttle, user_pk=1)
    assert allowed(throttle, user_pk=2)
    assert throttle().allow_request(post(1), view(scope="pipeline"))


def test_reads_and_unscoped_views_are_never_counted(throttle, store, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "1/minute"}
    instance = throttle()
    for method in ("GET", "HEAD", "OPTIONS"):
        assert instance.allow_request(SimpleNamespace(method=method, user=post().user, META={}), view())
    assert instance.allow_request(post(), view(scope=None))
    assert len(store._cache) == 0


def test_none_switches_a_scope_off_and_stores_nothing(throttle, store, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "none"}
    assert all(allowed(throttle) for _ in range(50))
    settings.OPS_THROTTLE_RATES = {}  # a scope without a rate is not limited either
    assert allowed(throttle)
    assert len(store._cache) == 0


def test_a_rate_changed_at_runtime_applies_to_the_next_request(throttle, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "2/minute"}
    assert [allowed(throttle) for _ in range(3)] == [True, True, False]
    settings.OPS_THROTTLE_RATES = {"ingest": "4/minute"}  # what was used still counts
    assert [allowed(throttle) for _ in range(3)] == [True, True, False]
    settings.OPS_THROTTLE_RATES = {"ingest": "none"}
    assert allowed(throttle)


def test_the_window_rolls_over_with_the_previous_one_fading_out(throttle, clock, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "3/minute"}
    clock.now = WINDOW_START + 50
    assert [allowed(throttle) for _ in range(4)] == [True, True, True, False]
    clock.now = WINDOW_START + 60  # the next window: a fixed window would start over, 3 weighted in full
    assert not allowed(throttle)
    clock.now = WINDOW_START + 60 + 19  # 3 * (1 - 19/60) + 1 > 3
    assert not allowed(throttle)
    clock.now = WINDOW_START + 60 + 20  # 3 * (1 - 20/60) + 1 = 3
    assert allowed(throttle)
    clock.now = WINDOW_START + 180  # two windows on: nothing from before counts
    assert [allowed(throttle) for _ in range(4)] == [True, True, True, False]


def test_wait_is_when_the_refused_request_would_fit(throttle, clock, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "3/minute"}
    clock.now = WINDOW_START + 30
    for _ in range(3):
        allowed(throttle)
    refused = throttle()
    assert not refused.allow_request(post(), view())
    # Full until the window ends in 30 s; then 3 * (1 - e) + 1 <= 3 from e = 1/3, 20 s later.
    assert refused.wait() == pytest.approx(50.0)
    clock.now += 49.9
    assert not allowed(throttle)
    clock.now += 0.1
    assert allowed(throttle)


def test_a_cost_above_the_rate_is_refused_without_a_wait(throttle, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "5/minute"}
    refused = throttle()
    assert not refused.allow_request(post(), view(cost=6))
    assert refused.wait() is None  # waiting would not help: no Retry-After


def test_concurrent_requests_never_pass_more_than_the_rate(throttle, store, settings):
    settings.OPS_THROTTLE_RATES = {"ingest": "100/minute"}
    passed = []

    def client():
        passed.extend(allowed(throttle) for _ in range(40))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == 100
    assert store.get("throttle:ingest:7:60:30000000") == 100  # every refusal rolled back


@pytest.mark.django_db
def test_the_ingest_answers_429_with_the_exact_retry_after(editor_client, settings, monkeypatch):
    clock = Clock(WINDOW_START + 30)
    monkeypatch.setattr(WriteRateThrottle, "timer", clock)
    settings.OPS_THROTTLE_RATES = {"ingest": "3/minute", "pipeline": "none"}
    cache.clear()
    try:
        codes = [editor_client.post("/inspector/traces", trace_body(), format="json").status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        limited = editor_client.post("/inspector/traces", trace_body(), format="json")
        assert limited.status_code == 429 and limited["Retry-After"] == "50"
        clock.now += 50
        assert editor_client.post("/inspector/traces", trace_body(), format="json").status_code == 201
    finally:
        cache.clear()
