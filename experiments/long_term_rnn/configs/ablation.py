"""The course's LSTM variants on the adding problem (length 100): vanilla, peephole, NIG, NFG,
NOG, NIAF, NOAF, otherwise the default config.

Command: ``jaxdl run long-term-rnn --config ablation``.
Expected: the course says the forget gate is crucial: NFG is the variant that fails or lags
most; see the README for the measured table.
"""

from experiments.long_term_rnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        models=[
            "lstm",
            "lstm_peephole",
            "lstm_NIG",
            "lstm_NFG",
            "lstm_NOG",
            "lstm_NIAF",
            "lstm_NOAF",
        ]
    )
    return config
