"""Magnetization of the 2-D Ising model against temperature, by checkerboard Gibbs sampling.

Command: ``jaxdl run ising-gibbs``.
Expected: on a 16x16 periodic grid (J = 1, h = 0), 8 chains of 2000 sweeps from the
all-up state, <|m|> follows Onsager's curve below T_c ~ 2.27 (|m| ~ 0.99 at T = 1.5) and
falls to 0.12 by T = 3.5, within 0.001 of Onsager for T <= 2; |m| crosses 0.5 near
T = 2.41 (finite-size shift above T_c).
Single-site Gibbs on 3x3 matches exact enumeration within a few standard errors.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "progress": True,
        "size": 16,
        "kernel": "checkerboard",
        "temperatures": [1.5, 1.75, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.75, 3.0, 3.5],
        "num_chains": 8,
        "num_sweeps": 2000,
        "burn_in": 500,
        # temperatures where the finite grid should follow Onsager closely
        "onsager_check_below": 2.0,
        # 3x3 single-site Gibbs against exact enumeration
        "exact_temperatures": [1.0, 2.5, 5.0],
    }
