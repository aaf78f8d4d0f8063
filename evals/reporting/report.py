"""`python -m evals report RUN_DIR`: our numbers beside the paper's, as Markdown and PNG charts.

RUN_DIR is one run directory or a folder of them (every metrics.json below it is read).
When a task was run more than once, each run gets its own row.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.reporting.paper_results import (
    CAPTION_METRIC_NAMES,
    CAPTION_METRICS,
    CAPTION_TABLES,
    PAPER_CAPTION_SCORES,
    PAPER_QA_ACCURACY,
    QA_TASK_NAMES,
)
from evals.tasks.run_store import METRICS_FILE

REPORT_FILE = "report.md"


def find_runs(root: Path) -> list[tuple[Path, dict]]:
    runs = []
    for path in sorted(root.rglob(METRICS_FILE)):
        try:
            runs.append((path.parent, json.loads(path.read_text())))
        except json.JSONDecodeError:
            raise ValueError(f"{path} is not JSON; rerun that task to rewrite it") from None
    return runs


def _label(run_dir: Path, root: Path, result: dict) -> str:
    where = run_dir.relative_to(root).as_posix() if run_dir != root else run_dir.name
    refused = f", {result['n_refused']} refused" if result.get("n_refused") else ""
    return f"ours: {where} (n={result['n_items']}{refused}, {result.get('scoring', 'generate')})"


def _bar_chart(
    path: Path,
    title: str,
    categories: list[str],
    series: dict[str, list[float | None]],
    ylabel: str,
):
    import matplotlib.pyplot as plt

    fig = bar_figure(title, categories, series, ylabel)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def bar_figure(
    title: str, categories: list[str], series: dict[str, list[float | None]], ylabel: str
):
    """Grouped bars, one group per category; the legend sits below the axes, never on a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(categories) + 2), 4))
    width = 0.8 / max(1, len(series))
    for index, (name, values) in enumerate(series.items()):
        xs = [c + (index - (len(series) - 1) / 2) * width for c in range(len(categories))]
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(xs, heights, width, label=name)
        for bar, value in zip(bars, values, strict=True):
            if value is None:
                bar.set_hatch("//")
                bar.set_alpha(0.3)
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(3, len(series)))
    fig.tight_layout()
    return fig


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def write_report(root: Path) -> Path:
    """Write report.md (and PNG charts) into `root`; returns the report's path."""
    runs = find_runs(root)
    if not runs:
        raise ValueError(
            f"no {METRICS_FILE} under {root}; run `python -m evals run TASK ...` first"
        )
    lines = [f"# Evaluation report: {root}", ""]
    lines += ["Our runs beside BioMedGPT-10B's published numbers (Luo et al. 2023).", ""]

    # Table 2: QA accuracy.
    qa_runs = [(d, r) for d, r in runs if r["task"] in PAPER_QA_ACCURACY]
    lines += ["## Table 2: biomedical QA accuracy (%)", ""]
    tasks = list(PAPER_QA_ACCURACY)
    lines += [
        "| | " + " | ".join(QA_TASK_NAMES[t] for t in tasks) + " |",
        "|---" * (len(tasks) + 1) + "|",
    ]
    lines.append("| paper | " + " | ".join(f"{PAPER_QA_ACCURACY[t]:.1f}" for t in tasks) + " |")
    series: dict[str, list[float | None]] = {"paper": [PAPER_QA_ACCURACY[t] for t in tasks]}
    for run_dir, result in qa_runs:
        overall = result["metrics"]["overall"]
        row = [100 * overall["accuracy"] if result["task"] == t else None for t in tasks]
        lines.append(
            f"| {_label(run_dir, root, result)} | " + " | ".join(_fmt(v, 1) for v in row) + " |"
        )
        series[_label(run_dir, root, result)] = row
    if qa_runs:
        lines += ["", "| run | macro-F1 | unmatched rate | extraction |", "|---|---|---|---|"]
        for run_dir, result in qa_runs:
            overall = result["metrics"]["overall"]
            extraction = result["metrics"].get("extraction")
            how = (f"{extraction['rules']}: {extraction['keyed']} keyed, {extraction['bare']} bare, "
                   f"{extraction['unmatched']} unmatched") if extraction else "log-likelihood"  # fmt: skip
            lines.append(
                f"| {_label(run_dir, root, result)} | {_fmt(overall['macro_f1'])} | "
                f"{_fmt(overall['unmatched_rate'])} | {how} |"
            )
        _bar_chart(root / "table2_qa_accuracy.png", "Table 2: QA accuracy (%)",
                   [QA_TASK_NAMES[t] for t in tasks], series, "accuracy (%)")  # fmt: skip
        lines += ["", "![Table 2](table2_qa_accuracy.png)"]
    lines.append("")

    # Tables 3 and 4: caption metrics.
    for task, title in CAPTION_TABLES.items():
        task_runs = [(d, r) for d, r in runs if r["task"] == task]
        names = [CAPTION_METRIC_NAMES[m] for m in CAPTION_METRICS]
        lines += [
            f"## {title}",
            "",
            "| | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        paper = [PAPER_CAPTION_SCORES[task][m] for m in CAPTION_METRICS]
        lines.append("| paper | " + " | ".join(_fmt(v) for v in paper) + " |")
        series = {"paper": paper}
        for run_dir, result in task_runs:
            label = _label(run_dir, root, result)
            values = [result["metrics"]["overall"][m] for m in CAPTION_METRICS]
            lines.append(f"| {label} | " + " | ".join(_fmt(v) for v in values) + " |")
            series[label] = values
            for group, scores in result["metrics"].get("by_group", {}).items():
                group_values = [scores[m] for m in CAPTION_METRICS]
                lines.append(
                    f"| &nbsp;&nbsp;{group} (n={scores['n']}) | "
                    + " | ".join(_fmt(v) for v in group_values)
                    + " |"
                )
        if task_runs:
            chart = f"{task}_caption_metrics.png"
            _bar_chart(root / chart, title, names, series, "score")
            lines += ["", f"![{title}]({chart})"]
        else:
            lines += ["", f"No {task} run found."]
        lines.append("")

    path = root / REPORT_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
