"""Where the forget gate should matter: the last-marked-value task, LSTM with and without it.

Length 100, 8 markers at random steps; the target is the value at the last marker, so the
stored value must be replaced at every marker (discarding old content is the forget gate's
job: ``c_t = f * c_{t-1} + i * g``; with ``f = 1`` the old value can only be cancelled by
writing its negative). Models: vanilla LSTM, no forget gate (NFG), peephole, GRU (course
form; its update gate both forgets and writes) and the simple RNN. Everything else is the
default config.

Command: ``jaxdl run long-term-rnn --config forget``.
Expected: see the README's table (measured, reported whether or not NFG lags).
"""

from experiments.long_term_rnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        task="last_marked",
        num_markers=8,
        models=["lstm", "lstm_NFG", "lstm_peephole", "gru", "simple"],
    )
    return config
