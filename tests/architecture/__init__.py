"""Tests of the shape of the code itself: which modules may import which."""
