"""The driver: chunks, seeding, the kernel calls, local threads and Dask, the tail pass
(contributions) and warm-up."""
