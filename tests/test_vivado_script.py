"""hls/scripts/vivado_zcu102.tcl under tclsh with the Vivado commands stubbed (no Vivado here): the
block design gets the config's part and clock, the board preset, the HLS IP of the top, one HP port
per m_axi bundle and HPM0 for the control; the .xsa is written only when implementation meets timing;
a missing IP is a clear error."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from cosim.toolchain import REPO_ROOT
from python_ref.config import load_config

SCRIPT = REPO_ROOT / "hls" / "scripts" / "vivado_zcu102.tcl"

# Stand-ins for the Vivado commands: each logs its call; the queries answer like a design whose top
# has three m_axi bundles and one s_axilite bundle, and an implementation with the given WNS.
STUBS = """
set ::log [open $::env(STUB_LOG) w]
proc logcall {name args} { puts $::log "$name $args"; flush $::log }
foreach cmd {create_project set_property update_ip_catalog create_bd_design apply_bd_automation assign_bd_address
             validate_bd_design save_bd_design make_wrapper add_files launch_runs wait_on_run write_hw_platform} {
    proc $cmd {args} "logcall $cmd {*}\\$args"
}
proc current_project {} { return proj }
proc current_fileset {} { return sources_1 }
proc get_board_parts {args} { return {xilinx.com:zcu102:part0:3.3 xilinx.com:zcu102:part0:3.4} }
proc create_bd_cell {args} { logcall create_bd_cell {*}$args; return [lindex $args end] }
proc get_bd_intf_pins {args} {
    if {[string match *Master* $args]} { return {accel/m_axi_gmem_w accel/m_axi_gmem_in accel/m_axi_gmem_out} }
    if {[string match *Slave* $args]} { return {accel/s_axi_control} }
    return [lindex $args end]
}
proc get_files {args} { return /proj/system.bd }
proc get_runs {args} { return impl_1 }
proc get_property {name obj} {
    switch $name { PROGRESS { return 100% } STATUS { return done } STATS.WNS { return $::env(STUB_WNS) } }
}
rename exit real_exit
proc exit {{code 0}} { close $::log; real_exit $code }
"""


def run(tmp_path, wns="0.125", ip=True):
    repo = tmp_path / "ip"
    repo.mkdir()
    if ip:
        (repo / "component.xml").write_text("<component/>")
    (tmp_path / "run.tcl").write_text(STUBS + f"source {SCRIPT}\n")
    env = {"CONFIG_NAME": "edge_moe", "IP_REPO": str(repo), "TOP": "backbone_top", "OUT_DIR": str(tmp_path / "out"),
           "JOBS": "2", "STUB_LOG": str(tmp_path / "log.txt"), "STUB_WNS": wns, "PATH": "/usr/bin:/bin"}
    res = subprocess.run(["tclsh", str(tmp_path / "run.tcl")], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    log = (tmp_path / "log.txt").read_text().splitlines() if (tmp_path / "log.txt").is_file() else []
    return res, log


needs_tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed (apt-get install tcl)")


@needs_tclsh
def test_block_design_for_the_config(tmp_path):
    res, log = run(tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    cfg = load_config("edge_moe")
    text = "\n".join(log)
    assert f"-part {cfg.hardware.part}" in text
    assert "set_property board_part xilinx.com:zcu102:part0:3.4" in text, "the newest ZCU102 board files"
    assert "apply_board_preset" in text
    assert f"CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ {round(cfg.hardware.clock_mhz)}" in text
    assert "create_bd_cell -type ip -vlnv xilinx.com:hls:backbone_top:1.0 accel" in text
    # each m_axi bundle on its own HP port, the control on HPM0
    autos = [line for line in log if line.startswith("apply_bd_automation -rule xilinx.com:bd_rule:axi4")]
    hp = {m: p for m, p in (("accel/m_axi_gmem_in", "HP0"), ("accel/m_axi_gmem_out", "HP1"),
                            ("accel/m_axi_gmem_w", "HP2"))}
    for m, port in hp.items():
        assert any(f"Master {m} " in a and f"S_AXI_{port}_FPD" in a for a in autos), (m, port, autos)
    assert any("M_AXI_HPM0_FPD" in a and "accel/s_axi_control" in a for a in autos)
    assert [f"CONFIG.PSU__USE__S_AXI_GP{k}" in text for k in (2, 3, 4)] == [True] * 3
    # the PS masters the design does not clock (HPM1_FPD, HPM0_LPD) are off, whatever the preset enabled
    assert "CONFIG.PSU__USE__M_AXI_GP1 0 " in text and "CONFIG.PSU__USE__M_AXI_GP2 0 " in text
    order = [line.split()[0] for line in log]
    assert order.index("validate_bd_design") < order.index("launch_runs") < order.index("write_hw_platform")
    assert any(line.startswith("write_hw_platform -fixed -include_bit") and "zcu102_edge_moe.xsa" in line for line in log)


@needs_tclsh
def test_missed_timing_writes_no_platform(tmp_path):
    res, log = run(tmp_path, wns="-0.042")
    assert res.returncode == 1 and "misses 300 MHz (WNS -0.042 ns)" in res.stderr
    assert not any(line.startswith("write_hw_platform") for line in log)


@needs_tclsh
def test_missing_ip_is_a_clear_error(tmp_path):
    res, log = run(tmp_path, ip=False)
    assert res.returncode == 2 and "no exported HLS IP" in res.stderr and "make vitis-synth" in res.stderr
    assert not any(line.startswith("create_project") for line in log)
