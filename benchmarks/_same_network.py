"""The check that a speed benchmark times sklstm on the network its hand loop trains.

A ratio sklstm/hand compares training loops only while both train the same network.
The estimators' defaults grow (a convolutional branch, ``pooling="concat"``,
``split_level="auto"`` joined them after the benchmarks were written, and each time
the ratio moved with the network, not the loop), so the benchmarks pin every
parameter that shapes the network and check the result: the fitted module's ``repr``
(layers, sizes and options) must equal that of the hand loop's network.
"""


def check_same_network(fitted_module, hand_module):
    """Raise unless sklstm's fitted module is built as the hand loop's.

    Parameters
    ----------
    fitted_module : torch.nn.Module
        The estimator's trained module (``est.net_.module_``).
    hand_module : torch.nn.Module
        The network the hand loop trains (or one built with its arguments).

    Raises
    ------
    RuntimeError
        Naming both networks, when their ``repr`` differ: set the estimator
        parameter that changed the network in the benchmark's ``fit_sklstm``.
    """
    if repr(fitted_module) != repr(hand_module):
        raise RuntimeError(
            "sklstm trained another network than the hand loop, so the ratio would "
            "compare networks, not loops; pin the estimator parameter that differs in "
            f"fit_sklstm.\nsklstm: {fitted_module!r}\nhand:   {hand_module!r}")
