"""The engine's own choices and defaults, as plain constants.

They import nothing, so the command line declares its options from them at start-up without
loading numpy.
"""

# Finite differences: central or forward, or the complex step.
FD_CENTRAL, FD_FORWARD, FD_COMPLEX = FD_METHODS = ("central", "forward", "complex")
# The finite-difference step h = step·max(1, |x|), by method: about the cube root of the
# rounding error for central differences, its square root for forward ones; the complex step
# has no cancellation, so any tiny step is exact.
FD_STEPS = {FD_CENTRAL: 1e-6, FD_FORWARD: 1e-8, FD_COMPLEX: 1e-20}
ENUMERATION_LIMIT = 10_000  # paths listed one by one, at most (--all, --top)
