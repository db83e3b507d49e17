"""Settings shared by the test modules."""

#: Estimator settings small enough for ~0.1 s fits, still learning the tests' easy
#: problems within two epochs (two fixed epochs: ``tol=None``, so no fit of a test
#: that only needs a working model warns that it did not converge). The ``tiny``
#: fixture hands out a copy.
TINY = dict(hidden_size=4, max_epochs=2, tol=None, batch_size=8, lr=0.03, random_state=0,
            n_threads=1)
