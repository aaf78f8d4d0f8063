"""Counters and histograms of the model server, written in Prometheus' text format for /metrics.

Written by hand (a few lines) rather than with prometheus_client, which the server would need
only for this page.
"""

from __future__ import annotations

import threading
from collections import Counter

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Histogram:
    """Cumulative buckets, sum and count, as Prometheus expects."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS_S):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        lines = [
            f'{name}_bucket{{le="{bound}"}} {count}'
            for bound, count in zip(self.buckets, self.counts, strict=True)
        ]
        lines.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        lines.append(f"{name}_sum {self.total:.6f}")
        lines.append(f"{name}_count {self.count}")
        return lines


class ServingMetrics:
    """What /metrics reports: requests by endpoint and status, tokens, latency, queue depth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.aborted = 0
        self.latency = Histogram()
        self.time_to_first_token = Histogram()

    def count_request(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests[(endpoint, status)] += 1

    def count_finished(self, prompt_tokens: int, generation_tokens: int, seconds: float) -> None:
        with self._lock:
            self.prompt_tokens += prompt_tokens
            self.generation_tokens += generation_tokens
            self.latency.observe(seconds)

    def count_first_token(self, seconds: float) -> None:
        with self._lock:
            self.time_to_first_token.observe(seconds)

    def count_aborted(self) -> None:
        with self._lock:
            self.aborted += 1

    def render(self, *, queue_depth: int, in_flight: int, ready: bool) -> str:
        with self._lock:
            lines = [
                "# HELP biomedgpt_requests_total HTTP requests answered, by endpoint and status.",
                "# TYPE biomedgpt_requests_total counter",
            ]
            for (endpoint, status), count in sorted(self.requests.items()):
                lines.append(
                    f'biomedgpt_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}'
                )
            lines += [
                "# HELP biomedgpt_prompt_tokens_total LM input positions (text, atoms, residues) of finished requests.",
                "# TYPE biomedgpt_prompt_tokens_total counter",
                f"biomedgpt_prompt_tokens_total {self.prompt_tokens}",
                "# HELP biomedgpt_generation_tokens_total Tokens generated for finished requests.",
                "# TYPE biomedgpt_generation_tokens_total counter",
                f"biomedgpt_generation_tokens_total {self.generation_tokens}",
                "# HELP biomedgpt_requests_aborted_total Generations stopped because the client went away.",
                "# TYPE biomedgpt_requests_aborted_total counter",
                f"biomedgpt_requests_aborted_total {self.aborted}",
                "# HELP biomedgpt_queue_depth Requests the engine accepted and has not finished.",
                "# TYPE biomedgpt_queue_depth gauge",
                f"biomedgpt_queue_depth {queue_depth}",
                "# HELP biomedgpt_requests_in_flight Requests (chat, embeddings) admitted and not yet answered.",
                "# TYPE biomedgpt_requests_in_flight gauge",
                f"biomedgpt_requests_in_flight {in_flight}",
                "# HELP biomedgpt_ready 1 once the model and engine are loaded.",
                "# TYPE biomedgpt_ready gauge",
                f"biomedgpt_ready {int(ready)}",
                "# HELP biomedgpt_request_seconds Time from request to last token.",
                "# TYPE biomedgpt_request_seconds histogram",
                *self.latency.lines("biomedgpt_request_seconds"),
                "# HELP biomedgpt_time_to_first_token_seconds Time from request to first token.",
                "# TYPE biomedgpt_time_to_first_token_seconds histogram",
                *self.time_to_first_token.lines("biomedgpt_time_to_first_token_seconds"),
            ]
        return "\n".join(lines) + "\n"
