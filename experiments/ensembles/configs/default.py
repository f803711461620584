"""Noisy moons (noise 0.35, 200 train): bagging 25 MLPs 64-64, boosting 100 stumps / 10 linear.

Command: ``jaxdl run ensembles`` (a minute or two on 2 CPU cores).
Expected: bagging (vote or average) beats the single over-fitted MLP on the test set,
boosted stumps beat one stump by more than 10 points and boosted linear classifiers beat
one linear classifier (see the README table).
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
