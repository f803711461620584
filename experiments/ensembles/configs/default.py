"""Noisy moons (noise 0.35, 200 train): bagging 25 MLPs 2-64-64-2, boosting 100 stumps / 10 linear.

Command: ``jaxdl run ensembles`` (a minute or two on 2 CPU cores).
Expected (seed 0): the single MLP over-fits (0.97 train, 0.858 test accuracy); bagging's
averaged probabilities reach 0.874; 100 boosted stumps 0.855 against 0.794 for one stump;
boosting linear classifiers stops after 3 rounds with no gain (see the README table).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_train": 200,
        "num_test": 2000,
        "noise": 0.35,
        "hidden": [64, 64],
        "learning_rate": 1e-2,
        "num_epochs": 500,
        "num_members": 25,
        "boost_rounds": 100,
        "network_rounds": 10,
        "network_epochs": 200,
        "network_learning_rate": 5e-2,
        "progress": True,
    }
