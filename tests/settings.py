"""Settings shared by the test modules."""

import torch

#: Whether ``device="auto"`` trains on CUDA here. Tolerances that compare two
#: computations of the same result in another order (another batch, another scale) are
#: set from what the kernels can promise: float32 rounding on the CPU; on CUDA cuDNN's
#: batched LSTM kernels round differently with the batch's composition (9.4e-6 relative
#: measured on an H200, 2026-12-04), and training amplifies the last bits over epochs.
ON_CUDA = torch.cuda.is_available()

#: Estimator settings small enough for ~0.1 s fits, still learning the tests' easy
#: problems within two epochs (two fixed epochs: ``tol=None``, so no fit of a test
#: that only needs a working model warns that it did not converge). The ``tiny``
#: fixture hands out a copy.
TINY = dict(hidden_size=4, max_epochs=2, tol=None, batch_size=8, lr=0.03, random_state=0,
            n_threads=1)
