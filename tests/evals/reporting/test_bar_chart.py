"""The report's bar charts keep their legend off the bars, however tall the bars are."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from evals.reporting.report import bar_figure


def test_the_legend_covers_no_bar_even_when_the_first_group_is_tallest():
    series = {
        f"ours: variant {i} (n=3300, generate)": [0.45 - 0.05 * i, 0.1, 0.2] for i in range(6)
    }
    fig = bar_figure("Table 3", ["BLEU-2", "BLEU-4", "ROUGE-1"], series, "score")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent(renderer)
        bars = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
        assert len(bars) == 18
        assert not any(legend.overlaps(bar.get_window_extent(renderer)) for bar in bars)
        assert not legend.overlaps(ax.get_window_extent(renderer))  # below the axes
    finally:
        plt.close(fig)
