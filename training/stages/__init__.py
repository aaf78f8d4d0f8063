"""One module per stage (lm, align, finetune) and the driver they share (run_stage)."""
