"""Settings shared by the test modules."""

#: Estimator settings small enough for ~0.1 s fits, still learning the tests' easy
#: problems within two epochs. The ``tiny`` fixture hands out a copy.
TINY = dict(hidden_size=4, max_epochs=2, batch_size=8, lr=0.03, random_state=0, n_threads=1)
