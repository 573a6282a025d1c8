# Vivado block design for the ZCU102: the Zynq UltraScale+ MPSoC (board preset), the HLS IP of one top
# (default backbone_top, exported by `make vitis-synth`), its m_axi masters on the PS's HP ports, its
# s_axilite control on HPM0_FPD, the PL clock at the configured frequency; implementation, a timing
# check, and the hardware platform (.xsa with the bitstream) for a host program.
#   make vivado-zcu102 [CONFIG=configs/<name>.yaml] [VIVADO_TOP=backbone_top] [VIVADO_JOBS=4]
# The Makefile exports CONFIG_NAME, IP_REPO (the HLS project's solution/impl/ip), TOP, OUT_DIR, JOBS,
# and runs `vivado -mode batch -source` on this script from the repository root. Part and clock come
# from the YAML through hls/generated/<config>/settings.tcl. Exit 2: a missing input (settings, IP,
# board files); exit 1: implementation failed or missed timing (WNS < 0); the .xsa is written only
# when timing is met.

proc require_env {name} {
    if {![info exists ::env($name)]} {
        puts stderr "error: environment variable $name is not set: run this script through `make vivado-zcu102`"
        exit 2
    }
    return $::env($name)
}

set cfg     [require_env CONFIG_NAME]
set ip_repo [file normalize [require_env IP_REPO]]
set top     [require_env TOP]
set out     [file normalize [require_env OUT_DIR]]
set jobs    [require_env JOBS]
set root    [pwd]
set gen     "$root/hls/generated/$cfg"
if {![file exists "$gen/settings.tcl"]} {
    puts stderr "error: $gen/settings.tcl not found (run `make generate`)"
    exit 2
}
source "$gen/settings.tcl"
if {![file exists "$ip_repo/component.xml"]} {
    puts stderr "error: no exported HLS IP in $ip_repo (run `make vitis-synth CONFIG=configs/$cfg.yaml` first)"
    exit 2
}
# the PL clock: the configured period, in whole MHz (the PS's IOPLL reaches 300 MHz exactly: 1500 / 5)
set pl_mhz [expr {round(1000.0 / $CLOCK_PERIOD_NS)}]

file mkdir $out
create_project -force "zcu102_$cfg" "$out/project" -part $PART
set boards [lsort -dictionary [get_board_parts -quiet {*zcu102*}]]
if {[llength $boards] == 0} {
    puts stderr "error: no ZCU102 board files in this Vivado installation (install them with the Vivado board store)"
    exit 2
}
set_property board_part [lindex $boards end] [current_project]
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog

create_bd_design "system"
set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:zynq_ultra_ps_e zynq_ps]
apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "1"} $ps
# HPM0_FPD for the control registers, PL clock 0 at the design's clock. The board preset may also
# enable HPM1_FPD and HPM0_LPD; nothing here uses them, and a master port left enabled without a clock
# on its aclk pin fails validate_bd_design, so both are turned off explicitly.
set_property -dict [list CONFIG.PSU__USE__M_AXI_GP0 {1} CONFIG.PSU__USE__M_AXI_GP1 {0} \
                        CONFIG.PSU__USE__M_AXI_GP2 {0} CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $pl_mhz] $ps

set hls [create_bd_cell -type ip -vlnv "xilinx.com:hls:$top:1.0" accel]
set masters [lsort [get_bd_intf_pins -of_objects $hls -filter {MODE == Master}]]
set slaves  [get_bd_intf_pins -of_objects $hls -filter {MODE == Slave}]
if {[llength $masters] > 4} {
    puts stderr "error: $top has [llength $masters] m_axi bundles; the PS has 4 HP ports (S_AXI_HP0..3_FPD)"
    exit 2
}
# one HP port per m_axi bundle (weights, activations and output do not share a port): HPk_FPD is the
# PS's S_AXI_GP(k+2)
set k 0
foreach m $masters {
    set_property -dict [list CONFIG.PSU__USE__S_AXI_GP[expr {$k + 2}] {1}] $ps
    apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
        -config [list Clk_master {Auto} Clk_slave {Auto} Clk_xbar {Auto} Master $m Slave "/zynq_ps/S_AXI_HP${k}_FPD" \
                     intc_ip {Auto} master_apm {0}] [get_bd_intf_pins "zynq_ps/S_AXI_HP${k}_FPD"]
    incr k
}
foreach s $slaves {
    apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
        -config [list Clk_master {Auto} Clk_slave {Auto} Clk_xbar {Auto} Master {/zynq_ps/M_AXI_HPM0_FPD} Slave $s \
                     intc_ip {New AXI SmartConnect} master_apm {0}] $s
}
assign_bd_address
validate_bd_design
save_bd_design

set bd [get_files system.bd]
make_wrapper -files $bd -top
add_files -norecurse [file join [file dirname $bd] hdl system_wrapper.v]
set_property top system_wrapper [current_fileset]

launch_runs impl_1 -to_step write_bitstream -jobs $jobs
wait_on_run impl_1
set run [get_runs impl_1]
if {[get_property PROGRESS $run] ne "100%"} {
    puts stderr "error: implementation did not complete ([get_property STATUS $run]); see $out/project"
    exit 1
}
set wns [get_property STATS.WNS $run]
puts "timing: WNS $wns ns at $pl_mhz MHz (part $PART)"
if {$wns < 0} {
    puts stderr "error: the implemented design misses $pl_mhz MHz (WNS $wns ns)"
    exit 1
}
write_hw_platform -fixed -include_bit -force -file "$out/zcu102_${cfg}.xsa"
puts "wrote $out/zcu102_${cfg}.xsa"
exit 0
