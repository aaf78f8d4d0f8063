"""A run folder: resolved config, metrics as JSON lines, loss curve, checkpoints, final model.

```
RUN_DIR/config.yaml        the config after overrides (what actually ran)
RUN_DIR/metrics.jsonl      one JSON object per log line (train loss, lr, tokens/s, valid loss)
RUN_DIR/loss_curve.png     training (and validation) loss against step, like the paper's Figure 3
RUN_DIR/checkpoints/       distributed checkpoints, newest kept (resume from here)
RUN_DIR/final_model/       the trained model, loadable by BioMedGPT.from_pretrained (or an LM folder)
```
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from training.config import ConfigError, StageConfig


class RunFolder:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config_path = self.root / "config.yaml"
        self.metrics_path = self.root / "metrics.jsonl"
        self.loss_curve_path = self.root / "loss_curve.png"
        self.checkpoints = self.root / "checkpoints"
        self.final_model = self.root / "final_model"

    def start(self, config: StageConfig) -> None:
        """Write the resolved config; refuse to resume a run folder made with another config."""
        self.root.mkdir(parents=True, exist_ok=True)
        resolved = yaml.safe_dump(config.to_dict(), sort_keys=False)
        if self.config_path.exists() and any(self.checkpoints.glob("step-*")):
            previous = yaml.safe_load(self.config_path.read_text())
            if _without_run_length(previous) != _without_run_length(config.to_dict()):
                raise ConfigError(
                    f"{self.root} holds checkpoints of a run with a different config; use a new "
                    "output.run_dir or delete the folder to start over"
                )
        self.config_path.write_text(resolved)

    def log(self, record: dict) -> None:
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def metrics(self) -> list[dict]:
        """Logged records; a last line torn by a kill mid-write is dropped, any other bad line is an error."""
        if not self.metrics_path.exists():
            return []
        text = self.metrics_path.read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        records = []
        for number, line in enumerate(lines, start=1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines) and not text.endswith("\n"):
                    break  # torn by a kill: the step is logged again after resume
                raise
        return records

    def drop_metrics_after(self, step: int) -> None:
        """On resume, lines logged after the checkpoint would repeat; keep the record single."""
        kept = [m for m in self.metrics() if m.get("step", 0) <= step or "event" in m]
        self.metrics_path.write_text("".join(json.dumps(m) + "\n" for m in kept))

    def plot_loss_curve(self, title: str) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        metrics = self.metrics()
        train = sorted({m["step"]: m["loss"] for m in metrics if "loss" in m}.items())
        valid = sorted(
            {m["step"]: m["valid_loss"] for m in metrics if m.get("valid_loss") is not None}.items()
        )
        figure, axis = plt.subplots(figsize=(6, 4))
        if train:
            axis.plot(*zip(*train, strict=True), label="train loss")
        if valid:
            axis.plot(*zip(*valid, strict=True), "o-", label="validation loss")
        axis.set_xlabel("optimizer step")
        axis.set_ylabel("loss (nats per target token)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
        figure.tight_layout()
        figure.savefig(self.loss_curve_path, dpi=120)
        plt.close(figure)


def _without_run_length(config: dict) -> dict:
    """Extending max_steps/epochs or changing logging cadence is a legitimate resume."""
    trimmed = json.loads(json.dumps(config))
    for key in ("max_steps", "epochs", "log_every", "eval_every", "save_every", "keep_checkpoints"):
        trimmed.get("train", {}).pop(key, None)
    return trimmed
