"""Triangle detection on random graphs: NN4G (constructive), GCN, spectral, GGNN compared.

Command: ``jaxdl run graph-classification`` (a few minutes on a busy 2-core CPU).
Expected: every model well above chance (0.5); the measured table is in the README
(1,200 Erdos-Renyi graphs of 8-16 nodes, about half with a triangle).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 7,
        "num_graphs": 1200,
        "min_nodes": 8,
        "max_nodes": 16,
        "edge_probability": 0.15,
        "val_fraction": 0.15,
        "test_fraction": 0.15,
        "models": ["nn4g", "gcn", "spectral", "ggnn"],
        "hidden": 32,
        "num_layers": 3,
        "num_epochs": 60,
        "nn4g_epochs_per_layer": 30,
        "batch_size": 32,
        "learning_rate": 3e-3,
        "progress": True,
    }
