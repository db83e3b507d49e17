"""The batch losses of an epoch, kept on their device until the epoch ends.

:class:`~sklstm.training.loop.EpochLoopNet` reads them with one ``.tolist()`` per
epoch, not one ``.item()`` per batch (which makes the host wait for the device); until
then a batch's history row holds its loss as a 0-d view of the buffer, which a
callback can read when it asks for it (skorch's ``net.history[-1, "batches", -1,
"train_loss"]`` in ``on_batch_end``).
"""

from __future__ import annotations

import torch

__all__ = ["LossBuffer", "write_losses"]


class LossBuffer:
    """The batch losses of an epoch, copied on their device into blocks, each value a
    0-d view of its block (what the batch's row holds until the epoch ends), read
    with one ``.tolist()``.

    Not the loss tensors themselves: thousands of small tensors that live for the whole
    epoch, allocated between the batches' buffers, kept the host's heap from returning
    the batches' memory (the fit's resident set grew with the number of batches, 56 MiB
    for 1250 batches of 100 KB). A block and its views are allocated together, one
    block of 16, 16, 32, ... values up to :attr:`BLOCK` at a time, so an epoch of a
    few batches makes few views (about 0.6 KB of the host's memory and a few
    microseconds each, freed with the buffer when the epoch ends). The copy is a kernel
    on the device, so reading no loss still waits for none.
    """

    BLOCK = 1024
    FIRST = 16

    def __init__(self):
        self.blocks, self.views, self.count = [], [], 0

    def __len__(self):
        return self.count

    def append(self, loss):
        """Copy ``loss`` (one element, as ``.item()`` needs: 0-d, or (1,) from some
        criteria) into the buffer.

        Parameters
        ----------
        loss : torch.Tensor
            A step's loss (the autograd graph is not kept).

        Returns
        -------
        torch.Tensor
            The 0-d view that holds it.
        """
        if self.count == len(self.views):
            block = torch.empty(min(self.BLOCK, max(self.FIRST, self.count)),
                                dtype=loss.dtype, device=loss.device)
            self.blocks.append(block)
            self.views.extend(block.unbind())
        view, loss = self.views[self.count], loss.detach()
        view.copy_(loss.reshape(()) if loss.dim() else loss)  # (a few us on the CPU)
        self.count += 1
        return view

    def tolist(self):
        """The losses as Python floats (the one read of the device)."""
        return torch.cat(self.blocks)[:self.count].tolist() if self.blocks else []


def write_losses(rows, losses, key):
    """Put the epoch's batch losses (a :class:`LossBuffer`) into their rows as floats
    (the only read of the losses in an epoch), in place of the views, where skorch's
    ``record_batch`` put its value: a value a hook wrote over the view stays.

    Parameters
    ----------
    rows : list of dict
        The history rows of the epoch's batches, in order (one more than the losses
        where an interrupt came between a row and its loss).
    losses : LossBuffer
        The epoch's losses.
    key : str
        ``"train_loss"`` or ``"valid_loss"``.
    """
    if not len(losses):
        return
    # (not strict: a Ctrl-C between a batch's row and its loss leaves one row more,
    # which keeps no loss, as skorch's row of a batch interrupted before its loss; a
    # ValueError here took the interrupt's place and lost the fit)
    for row, view, value in zip(rows, losses.views, losses.tolist(), strict=False):
        if row.get(key) is view:
            row[key] = value
