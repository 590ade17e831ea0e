"""CreditRisk+ (CSFB, 1997) of the book: the model from the inputs and ``[creditriskplus]``
(:mod:`.model`) and its exact loss distribution, risk measures and Euler contributions
(:mod:`.analytic`)."""
