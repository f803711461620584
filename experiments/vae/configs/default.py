"""Full vae run: a VAE with a 2-D latent space on scikit-learn digits (grey levels in [0, 1]).

Command: ``jaxdl run vae``.

Expected (2-core CPU, a few minutes): the test ELBO rises from about -46 nats per image
at initialization to about -25 (KL about 2 nats); the 2-D latent plot groups most digits;
prior samples look like blurry digits. Set ``conditional=True`` for a CVAE (one row of samples
per digit).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "test_fraction": 0.2,
        "val_fraction": 0.1,
        "latent_size": 2,
        "hidden": [128],
        "activation": "relu",
        "likelihood": "bernoulli",
        "conditional": False,
        "beta": 1.0,
        "learning_rate": 1e-3,
        "num_epochs": 100,
        "batch_size": 32,
        "epochs_per_chunk": 10,
        "num_prior_samples": 12,
        "progress": True,
    }
