"""Simple RNN vs LSTM vs GRU on the adding problem (Hochreiter & Schmidhuber, 1997)."""
