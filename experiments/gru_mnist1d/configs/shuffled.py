"""The time-shuffled control of gru-mnist1d: the default run with the 40 steps permuted.

Every sequence is reordered by one fixed permutation of its 40 time steps (drawn once from
``data_seed``), and everything else (GRU, 128 units, Adam 3e-3 cosine, 6,000 steps) is the
default's. The permutation keeps every value of a sequence but destroys its order, which
is what a recurrent reader exploits.

Command: ``jaxdl run gru-mnist1d --config shuffled``.
Expected: well below the ordered run (see the README's table).
"""

from experiments.gru_mnist1d.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(shuffle_time=True)
    return config
