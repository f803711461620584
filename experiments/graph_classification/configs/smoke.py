"""Seconds-long smoke run of graph-classification (tests and CI).

Command: ``jaxdl run graph-classification --config smoke``; expected: the loss falls.
"""

from experiments.graph_classification.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_graphs=96,
        models=["nn4g"],  # constructive NN4G (2 stages); the others: tests/graphs
        hidden=8,
        num_layers=2,
        num_epochs=4,
        nn4g_epochs_per_layer=2,
        batch_size=16,
        learning_rate=1e-2,
        progress=False,
    )
    return config
