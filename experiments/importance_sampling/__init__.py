"""Plain Monte Carlo against importance sampling on a rare event."""
