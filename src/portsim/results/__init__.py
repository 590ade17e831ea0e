"""Results: the vocabulary (:mod:`~portsim.results.schema`: every variable's name, dims, units
and long name), Monte Carlo estimators with their errors (:mod:`~portsim.results.estimators`),
the one Dataset builder (:mod:`~portsim.results.dataset`), the metrics read from a Dataset
(:mod:`~portsim.results.metrics`) and scenario comparisons (:mod:`~portsim.results.comparison`)."""
