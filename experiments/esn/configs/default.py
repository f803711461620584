"""ESN study: MC of 130 reservoirs per size (13 radii x 10 seeds) for N = 10..200; NARMA-10 and
Mackey-Glass one-step prediction with N = 400 and a ridge readout.

Command: ``jaxdl run esn`` (a few minutes on 2 busy CPU cores).
Expected: the best memory capacity stays below N for every size (about 0.5-0.7 N for tanh
reservoirs), NARMA-10 NRMSE well below 1 and Mackey-Glass one-step NRMSE near 1e-2
(the README has the measured numbers).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "sizes": [10, 25, 50, 100, 200],
        "radius_range": [0.1, 1.3],
        "num_radii": 13,
        "num_seeds": 10,
        "density": 0.1,
        "input_scaling": 0.5,
        "mc_length": 3000,
        "task_size": 400,
        "task_radius": 0.9,
        "task_length": 5000,
        "washout": 200,
        "num_train": 3000,
        "strength": 1e-6,
        "progress": True,
    }
