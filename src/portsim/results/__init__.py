"""The results vocabulary (variable names, dims, units), Monte Carlo estimators with
their errors, the results Dataset and the metrics read from it."""
