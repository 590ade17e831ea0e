"""numba kernels over arrays only: random streams, special functions, default times and
losses, the payment timeline and insurance claims. No objects, no pandas, no I/O."""
