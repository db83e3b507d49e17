"""The generators' scale parameters (``noise``, ``height``, ``rise``,
``seasonal_amplitude``): finite reals bounded so that the float32 data stays finite."""

from .._param_validation import reals

__all__ = ["LARGEST_SCALE", "scales"]

#: The largest scale a generator takes. float32 ends at 3.4e38, and a generator's
#: values are sums of a few terms up to a multiple of a scale each (Gaussian draws of up
#: to about 10 standard deviations; make_sensor_series filters its drivers' noise, x5,
#: and sums the drivers into its AR target, x2.5 per driver): 1e30 leaves room for
#: 1e8 times that. Unbounded, noise=1e39 gave data of inf with numpy's overflow warning
#: alone.
LARGEST_SCALE = 1e30


def scales(closed="both"):
    """Constraint: a scale parameter, a real in ``[0, LARGEST_SCALE]`` (``closed``:
    which ends are included, as for :func:`~sklstm._param_validation.reals`).

    Examples
    --------
    >>> scales().is_satisfied_by(0.5), scales().is_satisfied_by(1e39)
    (True, False)
    """
    return reals(0, LARGEST_SCALE, closed=closed,
                 meaning="so that the float32 data stays finite")
