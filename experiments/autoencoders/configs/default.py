"""Full autoencoders run: seven autoencoders on scikit-learn digits, code size 8.

Command: ``jaxdl run autoencoders``.

Expected (2-core CPU, about 5 minutes): the linear autoencoder matches PCA (test MSE
0.0248 vs 0.0246; mean principal angle about 12 degrees); the deep autoencoder halves
PCA's error (0.0136) with the same code size; the L1 penalty zeroes about 88% of the
overcomplete code units; the denoising autoencoder restores 30%-masked inputs best
(MSE 0.023 vs 0.042 for the plain deep one); the contractive penalty shrinks the
encoder's squared Jacobian norm from about 190 to 0.14.
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
