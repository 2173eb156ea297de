"""Whole networks: torch.nn-like layers, one walk that reports shapes, parameters, MACs and receptive fields, and the zoo."""
