"""The numpy Generator a dataset generator draws its data from, made of ``random_state``.

``random_state`` is taken as scikit-learn's ``make_*`` take it (None, an int in
``[0, 2**32 - 1]``, a RandomState instance; the generators' parameter validation
refuses the rest, a numpy Generator included, with the fix in the error):

* an int seeds the Generator through numpy's SeedSequence, which gives distinct
  streams for distinct seeds; ``RandomState(seed).randint(2**31)`` as the seed, as
  before, mapped seeds onto 2**31 streams, so some collided (4963 and 25569 gave the
  same data);
* a RandomState instance gives 128 bits, so a shared one advances and repeated calls
  with it give new data, as with scikit-learn's generators; None draws them from
  numpy's global RandomState, as scikit-learn does, so ``np.random.seed`` still fixes
  the data.

An int seed and ``RandomState(seed)`` therefore give different data.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state


def generator(random_state):
    """The numpy Generator made of a validated ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        An int seeds the Generator directly; a RandomState (numpy's global one for None)
        is drawn from.

    Returns
    -------
    numpy.random.Generator
        The Generator whose samplers make the data.

    Examples
    --------
    >>> import numpy as np
    >>> int(generator(np.int64(3)).integers(100)) == int(generator(3).integers(100))
    True
    """
    if isinstance(random_state, Integral):
        return np.random.default_rng(int(random_state))
    words = check_random_state(random_state).randint(2**32, size=4, dtype=np.uint64)
    return np.random.default_rng(words)
