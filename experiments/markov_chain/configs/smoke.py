"""Seconds-long smoke run of the markov-chain experiment (tests and CI).

Command: ``jaxdl run markov-chain --config smoke``; expected: the total-variation
distance falls below 1e-5 and a 2,000-step chain's frequencies match pi.
"""

from experiments.markov_chain.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_chain_steps=2000)
    return config
