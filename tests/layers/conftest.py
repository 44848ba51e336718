"""Shared settings for the semcov-layers tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    # The tensors here are tiny: extra intra-op threads only add synchronisation, which costs a lot
    # on a busy 2-core CI machine. Restored afterwards so other test folders keep their setting.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
