"""cocotb testbench of rtl/src/act_buffers.sv (the frame's two activation buffers): the tests of
cosim/test_act_buffer.py, run on each buffer in turn through its prefixed ports (x_: the residual x,
h_: the hidden rows, g_: the gate logits), at the shapes python_ref.kernels.act_buffer.BufferShape.frame
gives for the config. The wrapper derives its buffers' parameters from the generated package itself; the
bench checks them against python_ref's shapes before it runs (cosim.test_act_buffer.buffers_of)."""
from __future__ import annotations

from cosim.test_act_buffer import test_errors, test_frame, test_random  # noqa: F401  (cocotb collects them here)
