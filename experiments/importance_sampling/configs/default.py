"""Plain Monte Carlo vs importance sampling for the rare event P(x > 3), x ~ N(0, 1).

Command: ``jaxdl run importance-sampling`` (a few seconds of CPU time).
Expected: for P(x > 3) = 1.35e-3, importance sampling from N(3, 1) has a variance about
200x smaller than plain Monte Carlo at every sample size (sd about 3.5e-4 vs 2.5e-5 at
n = 10,000); both sds fall like 1 / sqrt(n) and plain Monte Carlo's matches its theory
sqrt(s (1 - s) / n).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "threshold": 3.0,
        "sample_sizes": [100, 1000, 10000, 100000],
        "num_repeats": 200,
    }
