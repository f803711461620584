"""GPT-2 small training on one GPU: jaxdl vs a plain flax+optax GPT-2, tokens/s and MFU.

Sizes of the issue: 12 pre-LN layers, d = 768, 12 heads, FFN 3,072 (GELU tanh), T = 1,024,
vocabulary 50,304 (50,257 padded to a multiple of 64), learned positions, tied output,
batch 16, AdamW (``optax.adamw``, lr 6e-4, weight decay 0.1), bfloat16 compute with
float32 master weights. Two contestants, both one jitted step with the state donated:

- ``jaxdl``: ``jaxdl.nn.gpt2_small(dtype=bfloat16, ...)`` with
  ``jaxdl.pretraining.make_causal_lm_loss`` (chunked cross-entropy against the tied
  embedding), stepped by the very function ``fit`` scans
  (``jaxdl.training.steps.as_update_step``, key ``fold_in(step_key, step)``);
- ``plain``: the GPT-2 a user writes in flax.linen here (a Python loop of blocks, a fused
  QKV ``Dense``, full float32 logits and ``optax.softmax_cross_entropy_with_integer_labels``).

Both call :func:`jax.nn.dot_product_attention` with ``is_causal=True`` and the same
``implementation`` (``"cudnn"``, cuDNN flash attention, on a GPU; XLA's elsewhere, or when
a cuDNN probe fails, which the JSON then says). The plain model's parameters are converted
from jaxdl's initial ones, and both train on the same random token batches (numpy seed 0),
so their first losses agree (printed; bfloat16, to ~1e-2).

Reported per contestant: tokens/s (median over the timed steps, each ended by
``block_until_ready``), MFU = tokens/s x (6 N + 12 L d T) / peak with N = every parameter
of jaxdl's model (embeddings included, ``jaxdl.nn.parameter_count``) and peak the card's
dense bfloat16 peak looked up from ``device_kind`` (H100 SXM and H200 989.4 TFLOP/s, H100
PCIe 756, H100 NVL 835, A100 312; unknown card or CPU -> null), compile seconds (lowering
and compiling the step), the first step's seconds, XLA's memory analysis of the compiled
step and the device's peak bytes in use (jaxdl runs first, so plain's peak is the
process's). Then jaxdl/plain and the targets (MFU >= 0.5, ratio >= 1.2).

Run: ``python benchmarks/gpt2_gpu.py`` on the GPU (3 warm-up + 10 timed steps, a few
minutes with both compiles); ``--tiny`` (2 layers, d = 64, 2 heads, T = 64, vocabulary
512, batch 2) runs end to end on CPU; ``--compile-only`` lowers and compiles both steps
from abstract shapes (``jax.ShapeDtypeStruct``, nothing allocated) and reports compile
seconds and memory analyses. Flags: ``--batch``, ``--steps``, ``--warmup``, ``--remat``,
``--scan-unroll``, ``--chunk-size`` (0: full logits), ``--attention``. Prints one JSON
object.

This script was written and run (``--tiny``, ``--compile-only``) in a session without a
GPU: its GPU numbers are not measured yet. There, ``--compile-only`` at the full size
compiled each step in about 5 s on a busy 2-core CPU (XLA attention), and ``--tiny`` gave
first losses 6.25537 (jaxdl) and 6.25536 (plain).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.nn import gpt2_small, parameter_count
from jaxdl.pretraining import make_causal_lm_loss
from jaxdl.training import TrainState
from jaxdl.training.steps import as_update_step

# dense bfloat16 peak FLOP/s (no sparsity), by a lower-case fragment of device_kind
PEAK_BF16 = (
    ("h200", 989.4e12),
    ("h100 pcie", 756e12),
    ("h100 nvl", 835e12),
    ("h100", 989.4e12),  # "NVIDIA H100 80GB HBM3": the SXM card
    ("a100", 312e12),
)
TARGET_MFU, TARGET_RATIO = 0.5, 1.2
KEY_SPEC = jax.eval_shape(jax.random.key, 0)  # a typed key's shape, for abstract lowering


class Sizes(NamedTuple):
    layers: int
    d: int
    heads: int
    T: int
    vocab: int
    batch: int


GPT2_SMALL = Sizes(layers=12, d=768, heads=12, T=1024, vocab=50304, batch=16)
TINY = Sizes(layers=2, d=64, heads=2, T=64, vocab=512, batch=2)


def peak_flops(device_kind: str) -> float | None:
    """The card's dense bfloat16 peak, or ``None`` when unknown (CPU included)."""
    kind = device_kind.lower()
    for fragment, peak in PEAK_BF16:
        if fragment in kind:
            return peak
    return None


# --- the plain contestant -----------------------------------------------------------------


class PlainBlock(nn.Module):
    """Pre-LN GPT-2 block: fused QKV, causal ``jax.nn.dot_product_attention``, GELU MLP."""

    d: int
    heads: int
    attention: str | None  # jax.nn.dot_product_attention's implementation

    @nn.compact
    def __call__(self, x):
        b, t, _ = x.shape
        dense = lambda n, name: nn.Dense(  # noqa: E731
            n, dtype=jnp.bfloat16, kernel_init=nn.initializers.normal(0.02), name=name
        )
        h = nn.LayerNorm(epsilon=1e-5, dtype=jnp.bfloat16, name="ln_1")(x)
        q, k, v = jnp.split(dense(3 * self.d, "c_attn")(h), 3, axis=-1)
        q, k, v = (a.reshape(b, t, self.heads, self.d // self.heads) for a in (q, k, v))
        y = jax.nn.dot_product_attention(q, k, v, is_causal=True, implementation=self.attention)
        x = x + dense(self.d, "c_proj")(y.reshape(b, t, self.d))
        h = nn.LayerNorm(epsilon=1e-5, dtype=jnp.bfloat16, name="ln_2")(x)
        h = nn.gelu(dense(4 * self.d, "c_fc")(h), approximate=True)
        return x + dense(self.d, "mlp_proj")(h)


class PlainGPT2(nn.Module):
    sizes: Sizes
    attention: str | None

    @nn.compact
    def __call__(self, tokens):
        s = self.sizes
        init = nn.initializers.normal(0.02)
        wte = nn.Embed(s.vocab, s.d, dtype=jnp.bfloat16, embedding_init=init, name="wte")
        wpe = nn.Embed(s.T, s.d, dtype=jnp.bfloat16, embedding_init=init, name="wpe")
        x = wte(tokens) + wpe(jnp.arange(tokens.shape[1]))
        for i in range(s.layers):
            x = PlainBlock(s.d, s.heads, self.attention, name=f"h_{i}")(x)
        x = nn.LayerNorm(epsilon=1e-5, dtype=jnp.bfloat16, name="ln_f")(x)
        return wte.attend(x).astype(jnp.float32)


def plain_params_from_jaxdl(params: Any, sizes: Sizes) -> dict:
    """jaxdl's GPT parameters (stacked layers, per-head kernels) in PlainGPT2's layout."""
    d = sizes.d
    block = params["layers"]["block"]
    attention, mlp = block["self_attention"], block["feed_forward"]
    out = {
        "wte": {"embedding": params["token_embedding"]["embedding"]},
        "wpe": {"embedding": params["position_embedding"]["embedding"]},
        "ln_f": params["final_norm"],
    }
    for i in range(sizes.layers):
        at = lambda tree, i=i: jax.tree_util.tree_map(lambda a: a[i], tree)  # noqa: E731
        qkv = [attention[n] for n in ("query", "key", "value")]
        out[f"h_{i}"] = {
            "ln_1": at(block["self_attention_norm"]),
            "c_attn": {
                "kernel": jnp.concatenate([p["kernel"][i].reshape(d, d) for p in qkv], axis=1),
                "bias": jnp.concatenate([p["bias"][i].reshape(d) for p in qkv]),
            },
            "c_proj": {
                "kernel": attention["out"]["kernel"][i].reshape(d, d),
                "bias": attention["out"]["bias"][i],
            },
            "ln_2": at(block["feed_forward_norm"]),
            "c_fc": at(mlp["hidden"]),
            "mlp_proj": at(mlp["output"]),
        }
    return out


# --- the two steps ------------------------------------------------------------------------


def build(sizes: Sizes, args: argparse.Namespace, attention: str | None):
    """``init(key) -> (jaxdl_state, plain_state)`` and the two steps ``(state, batch, key)``."""
    model = gpt2_small(
        vocab_size=sizes.vocab,
        max_length=sizes.T,
        num_layers=sizes.layers,
        features=sizes.d,
        num_heads=sizes.heads,
        hidden_features=4 * sizes.d,
        dtype=jnp.bfloat16,
        implementation="cudnn" if attention == "cudnn" else "jax",
        remat=args.remat,
        scan_unroll=args.scan_unroll,
    )
    objective = make_causal_lm_loss(model, chunk_size=args.chunk_size or None)
    tx = optax.adamw(6e-4, weight_decay=0.1)
    fit_step = as_update_step(objective)  # the step fit scans
    plain = PlainGPT2(sizes, attention)

    def jaxdl_step(state, batch, step_key):
        return fit_step(jax.random.fold_in(step_key, state.step), state, batch)

    def plain_loss(params, tokens):
        logits = plain.apply({"params": params}, tokens[:, :-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

    def plain_step(state, batch, step_key):
        del step_key  # no randomness (no dropout), like jaxdl's step with rate 0
        params, opt_state = state
        loss, grads = jax.value_and_grad(plain_loss)(params, batch[0])
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), {"loss": loss}

    tokens = jax.ShapeDtypeStruct((1, sizes.T), jnp.int32)

    def init(key):
        params = model.init(key, jnp.zeros(tokens.shape, tokens.dtype))["params"]
        state = TrainState.create(apply_fn=model.apply, params=params, tx=tx)
        plain_params = plain_params_from_jaxdl(params, sizes)
        return state, (plain_params, tx.init(plain_params))

    # the converted tree must be exactly PlainGPT2's own (shapes only, nothing allocated)
    own = jax.eval_shape(lambda k: plain.init(k, jnp.zeros(tokens.shape, jnp.int32)), KEY_SPEC)
    converted = jax.eval_shape(init, KEY_SPEC)[1][0]
    if jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), own["params"]) != (
        jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), converted)
    ):
        raise AssertionError("plain_params_from_jaxdl does not give PlainGPT2's parameter tree")
    n = parameter_count(model, tokens)
    return init, jaxdl_step, plain_step, n


def probe_cudnn(sizes: Sizes) -> str | None:
    """``None`` when cuDNN's causal attention (forward and backward) compiles and runs."""
    shape = (1, sizes.T, sizes.heads, sizes.d // sizes.heads)
    q = jnp.ones(shape, jnp.bfloat16)

    def f(q):
        out = jax.nn.dot_product_attention(q, q, q, is_causal=True, implementation="cudnn")
        return out.astype(jnp.float32).sum()

    try:
        jax.block_until_ready(jax.jit(jax.grad(f))(q))
    except Exception as error:  # noqa: BLE001 - any failure means: fall back to XLA
        return f"{type(error).__name__}: {str(error)[:300]}"
    return None


def memory_analysis(compiled) -> dict | None:
    try:
        m = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend has one
        return None
    if m is None:
        return None
    names = ("argument", "output", "temp", "alias", "generated_code")
    return {f"{n}_bytes": int(getattr(m, f"{n}_size_in_bytes", -1)) for n in names}


def device_peak_bytes() -> int | None:
    stats = jax.devices()[0].memory_stats()
    return None if not stats else stats.get("peak_bytes_in_use")


def run(step, state, batches, step_key, warmup: int) -> tuple[Any, dict]:
    """Compile, run every batch; the first ``warmup`` steps are not timed."""
    start = time.perf_counter()
    compiled = jax.jit(step, donate_argnums=0).lower(state, batches[0], step_key).compile()
    compile_seconds = time.perf_counter() - start
    losses, times = [], []
    for batch in batches:
        start = time.perf_counter()
        state, metrics = compiled(state, batch, step_key)
        jax.block_until_ready((state, metrics))
        times.append(time.perf_counter() - start)
        losses.append(float(metrics["loss"]))
    timed = times[warmup:]
    seconds = statistics.median(timed)
    tokens = batches[0][0].shape[0] * (batches[0][0].shape[1] - 1)
    return state, {
        "tokens_per_second": tokens / seconds,
        "step_seconds_median": seconds,
        "step_seconds_min": min(timed),
        "compile_seconds": compile_seconds,
        "first_step_seconds": times[0],
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "memory_analysis": memory_analysis(compiled),
        "device_peak_bytes_in_use": device_peak_bytes(),
    }


def choose_attention(requested: str, sizes: Sizes) -> tuple[str | None, str]:
    if requested == "xla" or (requested == "auto" and jax.default_backend() != "gpu"):
        return None, f"XLA (requested {requested!r}, backend {jax.default_backend()})"
    failure = probe_cudnn(sizes)
    if failure is None:
        return "cudnn", "cuDNN flash attention"
    return None, f"XLA: the cuDNN probe failed ({failure})"


def compile_only(sizes: Sizes, args: argparse.Namespace) -> dict:
    """Lower and compile both steps from shapes alone; nothing is allocated."""
    attention = "cudnn" if args.attention == "cudnn" else None
    init, jaxdl_step, plain_step, n = build(sizes, args, attention)
    jaxdl_state, plain_state = jax.eval_shape(init, KEY_SPEC)
    batch = (jax.ShapeDtypeStruct((sizes.batch, sizes.T + 1), jnp.int32),)
    report = {}
    for name, step, state in (
        ("jaxdl", jaxdl_step, jaxdl_state),
        ("plain", plain_step, plain_state),
    ):
        start = time.perf_counter()
        lowered = jax.jit(step, donate_argnums=0).lower(state, batch, KEY_SPEC)
        lower_seconds = time.perf_counter() - start
        compiled = lowered.compile()
        report[name] = {
            "lower_seconds": lower_seconds,
            "compile_seconds": time.perf_counter() - start - lower_seconds,
            "memory_analysis": memory_analysis(compiled),
        }
    return {"parameters_N": n, **report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU-sized model and batch")
    parser.add_argument("--batch", type=int, default=None, help="default 16 (--tiny: 2)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (10; --tiny: 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps (3; --tiny: 1)")
    parser.add_argument("--remat", action="store_true", help="jaxdl: remat each block")
    parser.add_argument("--scan-unroll", type=int, default=1, help="jaxdl: layers per scan step")
    parser.add_argument(
        "--chunk-size", type=int, default=4096, help="jaxdl loss: logits rows per block (0: all)"
    )
    parser.add_argument("--attention", choices=("auto", "cudnn", "xla"), default="auto")
    parser.add_argument(
        "--compile-only", action="store_true", help="lower and compile from shapes, no run"
    )
    args = parser.parse_args()
    sizes = TINY if args.tiny else GPT2_SMALL
    if args.batch is not None:
        sizes = sizes._replace(batch=args.batch)
    steps = args.steps or (2 if args.tiny else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.tiny else 3)
    device = jax.devices()[0]
    header = {
        "benchmark": "gpt2_gpu",
        "device_kind": device.device_kind,
        "backend": jax.default_backend(),
        "jax_version": jax.__version__,
        "sizes": sizes._asdict(),
        "settings": {
            "remat": args.remat,
            "scan_unroll": args.scan_unroll,
            "chunk_size": args.chunk_size or None,
            "warmup_steps": warmup,
            "timed_steps": steps,
            "optimizer": "optax.adamw(6e-4, weight_decay=0.1)",
            "compute_dtype": "bfloat16, float32 parameters",
        },
    }
    if args.compile_only:
        print(json.dumps({**header, "compile_only": compile_only(sizes, args)}, indent=2))
        return

    attention, attention_note = choose_attention(args.attention, sizes)
    init, jaxdl_step, plain_step, n = build(sizes, args, attention)
    rng = np.random.default_rng(0)
    data = rng.integers(0, sizes.vocab, (warmup + steps, sizes.batch, sizes.T + 1))
    batches = [(jnp.asarray(tokens, jnp.int32),) for tokens in data]
    step_key = jax.random.key(1)
    jaxdl_state, plain_state = jax.jit(init)(jax.random.key(0))

    jaxdl_state, jaxdl = run(jaxdl_step, jaxdl_state, batches, step_key, warmup)
    del jaxdl_state
    plain_state, plain = run(plain_step, plain_state, batches, step_key, warmup)
    del plain_state

    flops_per_token = 6 * n + 12 * sizes.layers * sizes.d * sizes.T
    peak = peak_flops(device.device_kind)
    for result in (jaxdl, plain):
        result["mfu"] = (
            None if peak is None else result["tokens_per_second"] * flops_per_token / peak
        )
    ratio = jaxdl["tokens_per_second"] / plain["tokens_per_second"]
    report = {
        **header,
        "attention": attention_note,
        "tokens_per_step": sizes.batch * sizes.T,
        "parameters_N": n,
        "N_is": "every parameter of jaxdl's model, embeddings and positions included "
        "(jaxdl.nn.parameter_count)",
        "flops_per_token": flops_per_token,
        "flops_formula": "6 N + 12 L d T",
        "peak_bf16_flops": peak,
        "peak_note": "dense bfloat16 peak of the card"
        if peak is not None
        else f"unknown peak for {device.device_kind!r}: MFU is null",
        "jaxdl": jaxdl,
        "plain": plain,
        "first_loss_abs_difference": abs(jaxdl["first_loss"] - plain["first_loss"]),
        "ratio_jaxdl_over_plain": ratio,
        "targets": {"mfu": TARGET_MFU, "ratio": TARGET_RATIO},
        "meets_targets": {
            "mfu": None if jaxdl["mfu"] is None else jaxdl["mfu"] >= TARGET_MFU,
            "ratio": ratio >= TARGET_RATIO,
        },
        "memory_note": "device_peak_bytes_in_use is cumulative over the process; jaxdl ran first",
        "note": "written in a session without a GPU; GPU figures not measured by its author",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
