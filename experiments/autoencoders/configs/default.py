"""Full autoencoders run: seven autoencoders on scikit-learn digits, code size 8.

Command: ``jaxdl run autoencoders`` (or ``python -m experiments.autoencoders.train``).

Expected (2-core CPU, a few minutes): the linear autoencoder matches PCA (test MSE within
a few percent, small principal angles to the top-8 PCA subspace); the deep autoencoder
reconstructs better than PCA at the same code size; the L1 penalty makes most overcomplete
code units exactly zero; the denoising autoencoder restores masked inputs better than the
plain deep one; the contractive penalty shrinks the encoder's Jacobian.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "test_fraction": 0.2,
        "code_size": 8,
        "hidden": 64,
        "overcomplete_size": 128,
        "l1_weight": 0.002,
        "masking_rate": 0.3,
        "contractive_weight": 0.01,
        "code_dropout_rate": 0.1,
        "learning_rate": 3e-3,
        "num_epochs": 100,
        "batch_size": 64,
        "epochs_per_chunk": 10,
        "variants": [
            "linear",
            "deep",
            "overcomplete",
            "sparse",
            "denoising",
            "contractive",
            "code_dropout",
        ],
        "progress": True,
    }
