"""Link prediction on held-out edges of a stochastic block model graph (GCN encoder).

Command: ``jaxdl run link-prediction`` (about a minute on a busy 2-core CPU).
Expected: test ROC-AUC and average precision well above 0.5 (chance); measured numbers are
in the README.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 3,
        "community_sizes": [50, 50, 50, 50],
        "p_in": 0.2,
        "p_out": 0.01,
        "val_fraction": 0.05,
        "test_fraction": 0.15,
        "features": [32, 16],
        "num_epochs": 300,
        "learning_rate": 1e-2,
        "progress": True,
    }
