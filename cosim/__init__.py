"""Co-simulation flow: C simulation of hls/ with g++, RTL simulation of rtl/ with cocotb + Verilator,
python_ref as the scoreboard."""
