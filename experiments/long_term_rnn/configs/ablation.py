"""The course's LSTM variants on the adding problem (length 100): vanilla, peephole, NIG, NFG,
NOG, NIAF, NOAF, otherwise the default config.

Command: ``jaxdl run long-term-rnn --config ablation``.
Expected (README table): NIG and NOAF fail, NFG lags the vanilla cell about 3x; the adding
problem needs no forgetting, so the forget gate's role shows in ``--config forget`` instead.
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
