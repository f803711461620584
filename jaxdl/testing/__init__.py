"""Test helpers shipped with jaxdl: gradient checks, invariants, hypothesis strategies.

- :func:`check_grads` / :func:`assert_grads_close`: JAX derivatives against float64
  central differences (modes "full", "sampled", "directions", "hvp");
- invariants: :func:`assert_jit_matches_eager`, :func:`assert_vmap_matches_loop`,
  :func:`assert_no_recompile`, :func:`count_compilations`,
  :func:`assert_pytrees_allclose`, :func:`assert_bitwise_equal`;
- ``jaxdl.testing.strategies``: hypothesis strategies. Import it explicitly
  (``from jaxdl.testing import strategies``); hypothesis is a test extra, so this
  package does not import it.
"""

from jaxdl.testing.gradcheck import (
    MODES,
    GradCheckReport,
    LeafReport,
    assert_grads_close,
    check_grads,
)
from jaxdl.testing.invariants import (
    assert_bitwise_equal,
    assert_grad_matches_fd,
    assert_jit_matches_eager,
    assert_no_recompile,
    assert_pytrees_allclose,
    assert_vmap_matches_loop,
    count_compilations,
)

__all__ = [
    "MODES",
    "GradCheckReport",
    "LeafReport",
    "assert_bitwise_equal",
    "assert_grad_matches_fd",
    "assert_grads_close",
    "assert_jit_matches_eager",
    "assert_no_recompile",
    "assert_pytrees_allclose",
    "assert_vmap_matches_loop",
    "check_grads",
    "count_compilations",
]
