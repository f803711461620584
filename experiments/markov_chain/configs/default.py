"""A 3-state Markov chain: propagation to the stationary law and a simulated chain.

Command: ``jaxdl run markov-chain`` (seconds).
Expected: stationary pi = (0.245, 0.469, 0.286), power iteration and eigenvector agree to
1e-7; the total-variation distance falls like |lambda_2|^t = 0.3^t and drops below 1e-6
after 13 steps; a 20,000-step chain's visit frequencies lie within a fraction of a
standard error (from the effective sample size) of pi.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        # column-stochastic A[i, j] = T(x' = i | x = j)
        "transition_matrix": [
            [0.5, 0.2, 0.1],
            [0.3, 0.6, 0.4],
            [0.2, 0.2, 0.5],
        ],
        "num_propagation_steps": 40,
        "num_chain_steps": 20000,
    }
