"""The distributed engine: process group, FSDP sharding, checkpoints, the training loop."""
