"""GPT (4 layers, d = 128, 4 heads, T = 128, bytes) on the CPython docs, 1,515 AdamW steps.

Command: ``jaxdl run gpt-text`` (10 minutes on an idle 2-core CPU).
Expected: test perplexity about 3.2 per byte (1.67 bits per byte) after 1,515 steps;
samples show English words and Python terms (see the README).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "max_chars": 465_000,
        "block_length": 128,
        "max_length": 256,
        "num_layers": 4,
        "features": 128,
        "num_heads": 4,
        "dropout_rate": 0.0,
        "learning_rate": 3e-3,
        "warmup_steps": 100,
        "batch_size": 32,
        "num_steps": 1500,
        "chunk_size": 1024,
        "epochs_per_chunk": 1,
        "prompts": ["The for statement ", "A class definition "],
        "sample_length": 120,
        "temperature": 0.7,
        "checkpoint": True,
        "progress": True,
    }
