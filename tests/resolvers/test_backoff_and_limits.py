"""The real retry delays' math and the rate limiter's rules, on a fake clock (no sleeping)."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from biomedgpt_tools.resolvers.rate_limit import RateLimiter, throttling_slowdown
from biomedgpt_tools.resolvers.settings import RatePolicy, ResolverSettings
from biomedgpt_tools.resolvers.transport import backoff_delay, retry_after_seconds


class _Extremes(random.Random):
    """uniform() returns the lower or upper bound, to pin the jitter range."""

    def __init__(self, upper: bool):
        super().__init__(0)
        self.upper = upper

    def uniform(self, a, b):
        return b if self.upper else a


def test_backoff_defaults_grow_exponentially_within_the_jitter_band():
    settings = ResolverSettings()
    low = [
        backoff_delay(
            n, base_s=settings.backoff_base_s, max_s=settings.backoff_max_s, rng=_Extremes(False)
        )
        for n in range(7)
    ]
    high = [
        backoff_delay(
            n, base_s=settings.backoff_base_s, max_s=settings.backoff_max_s, rng=_Extremes(True)
        )
        for n in range(7)
    ]
    # ceiling = min(20, 0.5 * 2**n); delay in [ceiling/2, ceiling]
    assert high == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0]
    assert low == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_backoff_jitter_spreads_clients():
    rng = random.Random(1)
    delays = {round(backoff_delay(3, base_s=0.5, max_s=20, rng=rng), 6) for _ in range(50)}
    assert len(delays) > 40
    assert all(2.0 <= d <= 4.0 for d in delays)


def test_retry_after_is_a_floor():
    assert backoff_delay(0, base_s=0.5, max_s=20, retry_after_s=7.0, rng=_Extremes(True)) == 7.0
    assert backoff_delay(5, base_s=0.5, max_s=20, retry_after_s=1.0, rng=_Extremes(True)) == 16.0


def test_retry_after_header_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc), usegmt=True)
    assert retry_after_seconds(later, now=now.timestamp()) == pytest.approx(30.0)
    assert retry_after_seconds(later, now=now.timestamp() + 60) == 0.0


@pytest.mark.parametrize(
    ("header", "factor"),
    [
        (
            "Request Count status: Green (0%), Request Time status: Green (0%), Service status: Green (20%)",
            1,
        ),
        (
            "Request Count status: Yellow (60%), Request Time status: Green (10%), Service status: Green (20%)",
            2,
        ),
        (
            "Request Count status: Green (0%), Request Time status: Red (80%), Service status: Yellow (55%)",
            5,
        ),
        (
            "Request Count status: Black (100%), Request Time status: Red (80%), Service status: Green (2%)",
            10,
        ),
        (None, None),
        ("", None),
    ],
)
def test_throttling_header(header, factor):
    assert throttling_slowdown(header) == factor


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_limiter_allows_five_then_waits_for_the_window():
    clock = _Clock()
    limiter = RateLimiter(RatePolicy(5, 400, margin_s=0.05), clock=clock)
    slots = []
    for _ in range(5):
        slot, wait = limiter.try_acquire()
        assert slot is not None and wait == 0
        slots.append(slot)
    slot, wait = limiter.try_acquire()
    assert slot is None and wait > 0  # all five in flight: poll
    clock.now += 0.01
    for s in slots:
        limiter.release(s)
    slot, wait = limiter.try_acquire()
    assert slot is None
    assert wait == pytest.approx(1.05, abs=1e-9)  # ended at 100.01, counted until 101.06
    clock.now += wait
    slot, wait = limiter.try_acquire()
    assert slot is not None


def test_limiter_per_minute_budget():
    clock = _Clock()
    limiter = RateLimiter(RatePolicy(5, 12, margin_s=0.0), clock=clock)
    sent = 0
    while clock.now < 100.0 + 59.0:
        slot, wait = limiter.try_acquire()
        if slot is None:
            clock.now += wait
            continue
        limiter.release(slot)
        sent += 1
    assert sent == 12  # not 5/s * 59 s


def test_limiter_slows_down_on_yellow_and_red_and_recovers_on_green():
    limiter = RateLimiter(RatePolicy(5, 400))
    assert [limit for _, limit in limiter.limits()] == [5, 400]
    limiter.observe_throttling("Request Count status: Yellow (55%)")
    assert [limit for _, limit in limiter.limits()] == [2, 200]
    limiter.observe_throttling("Request Count status: Red (90%)")
    assert [limit for _, limit in limiter.limits()] == [1, 80]
    limiter.observe_throttling(None)  # header missing: keep being careful
    assert limiter.slowdown == 5
    limiter.observe_throttling("Request Count status: Green (5%), Service status: Green (1%)")
    assert limiter.slowdown == 1
