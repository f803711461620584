"""BERT (4 layers, d = 128, 4 heads, T = 128) masked LM on the CPython docs, BPE 1,024 tokens.

2,000 AdamW steps of batch 32.

Command: ``jaxdl run bert-mlm`` (19 minutes on an idle 2-core CPU).
Expected: test masked-token accuracy well above the most-frequent-token baseline (about
0.02); measured 0.136 (see the README). ``attention.png`` shows every head.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "max_chars": None,
        "bpe_vocab_size": 1024,
        "block_length": 128,
        "num_layers": 4,
        "features": 128,
        "num_heads": 4,
        "dropout_rate": 0.1,
        "mask_rate": 0.15,
        "learning_rate": 1e-3,
        "warmup_steps": 200,
        "batch_size": 32,
        "num_steps": 2000,
        "epochs_per_chunk": 1,
        "plot_tokens": 24,
        "checkpoint": True,
        "progress": True,
    }
