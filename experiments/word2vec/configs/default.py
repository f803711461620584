"""Skip-gram and CBOW (d = 64, window 5, 5 negatives, subsampling t = 1e-3) on the CPython docs.

Command: ``jaxdl run word2vec`` (a few minutes on a busy 2-core CPU).
Expected: the training loss falls for both kinds; (singular, plural) pairs such as
list / lists are markedly more similar (cosine) than random pairs; nearest neighbours of
Python words are related words; only a few of the analogy questions are answered on this
65,000-word corpus (see the README for the measured table).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "max_chars": None,
        "min_count": 5,
        "kinds": ["skipgram", "cbow"],
        "features": 64,
        "window": 5,
        "num_negatives": 5,
        "subsample_threshold": 1e-3,
        "learning_rate": 3e-3,
        "batch_size": 256,
        "num_steps": 3000,
        "k": 5,
        "queries": ["list", "dictionary", "integer", "exception", "function", "string", "loop"],
        "progress": True,
    }
