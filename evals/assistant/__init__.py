"""Scores of the assistant the paper does not measure: routing, resolvers, memory, end-to-end turns."""
