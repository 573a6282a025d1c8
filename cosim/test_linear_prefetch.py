"""cocotb testbench of rtl/src/linear_prefetch.sv: the linear engine behind its weight prefetch FIFO.

The engine's testbench (cosim/test_linear.py) runs it unchanged: its LinearTB sees the ddr_ ports
and drives them with DdrWords (the DMA: a token bucket, the speculative expert fetch and its skip
rule, route_we) instead of driving w_. The test is the frame sequence (test_frame_sequence): the
config's frame of linear calls, bit-exact, every ap_ready / ap_done equal to
cosim.linear_schedule.Sequence with a cosim.weight_fifo_schedule.WeightFifo
(tests/test_cosim_linear.py::test_linear_prefetch_frame_sequence_tiny).
"""
from cosim.test_linear import test_frame_sequence  # noqa: F401  (cocotb collects it from this module)
