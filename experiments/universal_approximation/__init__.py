"""Universal approximation: sup-error vs width; depth vs width at equal parameter count."""
