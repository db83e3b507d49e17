"""The words of input errors (sklstm.data.input_errors)."""

import re

import numpy as np
import pytest
import scipy.sparse as sp

from sklstm.data.input_errors import sparse_error

LIST_FIX = r"^E does not accept sparse input: .*Pass a list of 2D sequences \(\[s\.toarray"


@pytest.mark.parametrize("container", [list, tuple])
@pytest.mark.parametrize("where", [0, 2, 5])
@pytest.mark.parametrize("sparse", [sp.csr_matrix, sp.coo_array])
def test_a_sparse_sequence_among_dense_ones_is_found_wherever_it_is(container, where,
                                                                    sparse):
    # the scan asks one sequence of each type: a sparse one after dense ones of
    # several types (arrays, nested lists, a strided view) is still one of its own
    dense = [np.zeros((3, 2)), [[0.0, 1.0]], np.zeros((2, 2), np.float32),
             np.zeros((4, 2))[::2], [[1.0, 2.0]]]
    X = [*dense[:where], sparse(np.eye(2)), *dense[where:]]
    error = sparse_error("E", container(X))
    assert isinstance(error, TypeError) and re.match(LIST_FIX, str(error))
    assert sparse_error("E", container(dense)) is None
