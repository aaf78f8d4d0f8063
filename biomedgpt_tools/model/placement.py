"""Where a model is loaded and in what precision: the one decision the facade, the CLI,
the server, the tools and training share.

`choose_placement(device=..., dtype=..., device_map=...)` turns what a caller asked for
(any of them may be None) into a `Placement`: one dtype and one transformers `device_map`.

- device: None means this process's GPU when torch sees one (`cuda:LOCAL_RANK` under
  torchrun, so ranks do not all land on GPU 0), else the CPU. "auto" means
  `device_map="auto"` (accelerate spreads the model over every visible GPU).
- dtype: "fp32" / "bf16" / "fp16", torch's names, or a `torch.dtype`. None means fp16 when
  the model goes to a GPU (the released file's LM and ESM precision, as the authors ran
  it) and fp32 on the CPU (fp16 matrix products are many times slower there).
  transformers loads a model in a single dtype.

torch is imported only when a decision is made, so the command-line parsers can offer
`DTYPE_CHOICES` without paying for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Short names and torch's names, in the order the command-line help lists them.
DTYPE_NAMES = {
    "fp32": "float32",
    "bf16": "bfloat16",
    "fp16": "float16",
    "float32": "float32",
    "bfloat16": "bfloat16",
    "float16": "float16",
}
DTYPE_CHOICES = tuple(DTYPE_NAMES)


@dataclass(frozen=True)
class Placement:
    """One dtype for the whole model, and where its modules go (a transformers device_map)."""

    dtype: torch.dtype
    device_map: str | dict  # "cpu", "cuda:1": one device; "auto" or {module: device}: several

    @property
    def on_one_device(self) -> bool:
        """Whether every tensor ends up on one device (no accelerate offloading possible)."""
        return isinstance(self.device_map, str) and self.device_map != "auto"


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """'fp32' / 'bf16' / 'fp16' (or the torch names, or a torch.dtype) -> torch.dtype."""
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPE_NAMES:
        raise ValueError(
            f"unknown dtype {dtype!r}; use one of fp32, bf16, fp16 (or float32, bfloat16, float16)"
        )
    return getattr(torch, DTYPE_NAMES[dtype])


def default_device() -> str:
    """This process's GPU when torch sees one (`cuda:LOCAL_RANK` under torchrun), else the CPU."""
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    if "LOCAL_RANK" in os.environ:
        return f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    return "cuda"


def default_dtype(device: str | torch.device | dict | None) -> torch.dtype:
    """fp16 when the model goes to a GPU, fp32 elsewhere (None: the CPU)."""
    import torch

    if device == "auto":  # device_map="auto": GPUs when there are any
        return torch.float16 if torch.cuda.is_available() else torch.float32
    if isinstance(device, dict):  # a device map: a GPU if any module goes to one
        on_gpu = any(_is_gpu(target) for target in device.values())
        return torch.float16 if on_gpu else torch.float32
    return torch.float16 if torch.device(device or "cpu").type == "cuda" else torch.float32


def choose_placement(
    *,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    device_map: str | dict | None = None,
) -> Placement:
    """The placement for what was asked; ValueError naming a bad device or dtype (before any load)."""
    resolved = resolve_dtype(dtype)
    if device is not None and device_map is not None:
        raise ValueError("give device or device_map, not both")
    if device == "auto":
        device, device_map = None, "auto"
    if device_map is None:
        device_map = str(check_device(device if device is not None else default_device()))
    elif isinstance(device_map, str) and device_map != "auto":
        device_map = str(check_device(device_map))
    elif not isinstance(device_map, str | dict):
        raise ValueError(f"device_map must be 'auto', a device or a dict, not {device_map!r}")
    if resolved is None:
        resolved = default_dtype(device_map)
    return Placement(dtype=resolved, device_map=device_map)


def check_device(device: str | torch.device) -> torch.device:
    """`device` as a torch.device, or ValueError when torch cannot place a model there."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {device!r}: use cpu, cuda, cuda:N or auto") from error
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asks for CUDA but torch sees no GPU; use cpu")
    return parsed


def _is_gpu(target) -> bool:
    """A device map entry that is a GPU: an index, 'cuda', 'cuda:N' or a CUDA torch.device."""
    if isinstance(target, int):
        return True
    return str(target).startswith("cuda")
