"""Figures (a Dataset and an optional ``ax`` in, the Axes out) and the risk committee
report (HTML, PDF)."""
