"""Exploration: inverse problems through the floors, integer solution sets, general identities, sweeps."""
