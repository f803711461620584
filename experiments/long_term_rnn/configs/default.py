"""Adding problem, length 100 (lag >= 90), 32 hidden units, Adam 3e-3, clipping 1.0, 3,000 steps.

Command: ``jaxdl run long-term-rnn``; the ablation of the course's LSTM variants:
``jaxdl run long-term-rnn --config ablation`` (vanilla, peephole, NIG, NFG, NOG, NIAF, NOAF);
the forget gate on a task that needs forgetting: ``jaxdl run long-term-rnn --config forget``
(``task="last_marked"``: the value at the last of ``num_markers`` markers).
Expected: the gated cells solve the task (test MSE below a tenth of the mean-predictor's
0.17) while the simple RNN stays at the baseline, its gradient norm vanishing going back in
time; see the README for the measured table.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "task": "adding",
        "num_markers": 8,
        "length": 100,
        "num_train": 6400,
        "num_val": 500,
        "models": ["simple", "lstm", "gru", "gru_library"],
        "num_hidden": 32,
        "learning_rate": 3e-3,
        "clip_norm": 1.0,
        "batch_size": 64,
        "num_steps": 3000,
        "num_gradient_sequences": 32,
        "progress": True,
    }
