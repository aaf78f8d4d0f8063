"""Data preparation: raw public formats -> token blocks (stage 1) and QA records (stages 2-3)."""
