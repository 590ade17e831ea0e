"""Book × config → the arrays the kernels read (``ModelInputs`` with its
``TimelineInputs`` and ``PolicyInputs``): stress, factors, thresholds, groups, schedules."""
