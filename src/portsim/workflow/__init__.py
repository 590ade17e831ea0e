"""What a user runs: the Python API, run folders and their checkpoints, scenario batches
and the reverse stress test. With ``cli``, the only layer that writes files."""
