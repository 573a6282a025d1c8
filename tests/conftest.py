"""Shared pytest fixtures and markers of the suite.

* One torch thread per worker: `make test` runs pytest-xdist with JOBS workers on a 2-core machine,
  so more threads per worker only oversubscribe (applied to every test, once per session).
* ``@pytest.mark.published``: the test uses the published Edge-MoE weights and is skipped, with the
  one-line reason, when they are absent (python_ref.model.real_data.missing_reason is the one
  availability check); `pytest -rs` lists every such skip.
* ``published_dir``: the folder of the published weights (skips when absent).
"""
from __future__ import annotations

import pytest

from python_ref.model.real_data import missing_reason
from python_ref.model.weights import default_weights_dir



def pytest_configure(config):
    config.addinivalue_line("markers", "published: uses the published Edge-MoE weights (skipped with the reason when "
                                       "they are absent)")


def pytest_runtest_setup(item):
    if item.get_closest_marker("published") is not None:
        reason = missing_reason()
        if reason:
            pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # the python_ref-only tests do not need torch
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def published_dir():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    return default_weights_dir()
