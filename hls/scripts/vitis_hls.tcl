# Vendor flow for hls/: C simulation, synthesis + RTL export, and C/RTL co-simulation with Vitis HLS.
#   make vitis-csim  [CONFIG=configs/<name>.yaml] [HLS_KERNELS="gelu ..."]
#   make vitis-synth [CONFIG=configs/<name>.yaml] [HLS_KERNELS="gelu ..."] [CLOCK_UNCERTAINTY=12.5%]
#   make vitis-cosim [CONFIG=configs/<name>.yaml] [HLS_KERNELS="gelu ..."]
# The Makefile runs it with `vitis-run --mode hls --tcl` (the entry point since 2023.2; `vitis_hls -f`
# on older releases, where vitis-run does not exist) and exports MODE (csim | synth | cosim),
# CONFIG_NAME, KERNEL_LIST (a Tcl file written by
# scripts/vitis.py from the kernel registry, cosim/registry.py: one record per HLS top with its
# sources, C testbench and vector folder, the folder written from python_ref by
# scripts/export_vectors.py), and runs this script from the repository root. Part and clock come
# from the YAML through hls/generated/<config>/settings.tcl. Every testbench takes its vector folder
# as its one argument and checks its outputs itself (hls/tb/tb_io.h).

proc require_env {name} {
    if {![info exists ::env($name)]} {
        puts stderr "error: environment variable $name is not set: run this script through `make vitis-csim` or `make vitis-synth`"
        exit 2
    }
    return $::env($name)
}

set mode [require_env MODE]
set cfg  [require_env CONFIG_NAME]
set list [file normalize [require_env KERNEL_LIST]]
set root [pwd]
set gen  "$root/hls/generated/$cfg"
foreach f [list "$gen/settings.tcl" $list] {
    if {![file exists $f]} {
        puts stderr "error: $f not found (run `make generate`, then the make target)"
        exit 2
    }
}
source "$gen/settings.tcl"
source $list
if {[lsearch -exact {csim synth cosim} $mode] < 0} {
    puts stderr "error: MODE must be csim, synth or cosim, got '$mode'"
    exit 2
}
# Clock uncertainty: the margin HLS keeps for Vivado's placement and routing (Vitis' default is 27 % of
# the period for the Vivado flow). Ours: 12.5 % unless CLOCK_UNCERTAINTY (ns, or a percentage) says.
set uncertainty [expr {[info exists ::env(CLOCK_UNCERTAINTY)] && $::env(CLOCK_UNCERTAINTY) ne "" ? $::env(CLOCK_UNCERTAINTY) : "12.5%"}]

# hls/include/shim is deliberately absent: the vendor's own ap_axi_sdata.h is used.
set cflags "-std=c++14 -I$root/hls/src -I$gen"
set tbflags "$cflags -I$root/hls/tb"

set csim_done [list]
foreach rec $KERNEL_TOPS {
    lassign $rec kernel top sources tb vectors
    if {$top eq ""} {
        puts "note: kernel $kernel has no synthesizable top function yet: skipped by the vendor flow"
        continue
    }
    # C simulation once per kernel (its testbench calls every top of the kernel)
    if {$mode eq "csim" && [lsearch -exact $csim_done $kernel] >= 0} {
        continue
    }
    foreach f [concat $sources [list $tb]] {
        if {![file exists "$root/$f"]} {
            puts stderr "error: $root/$f not found (kernel '$kernel')"
            exit 2
        }
    }
    open_project -reset "build/vitis/$cfg/$top"
    set_top $top
    foreach f $sources {
        add_files "$root/$f" -cflags $cflags
    }
    add_files -tb "$root/$tb" -cflags $tbflags
    open_solution -reset "solution" -flow_target vivado
    set_part $PART
    create_clock -period $CLOCK_PERIOD_NS -name default
    set_clock_uncertainty $uncertainty
    if {$mode eq "csim"} {
        csim_design -argv [file normalize $vectors]
        lappend csim_done $kernel
    } elseif {$mode eq "synth"} {
        csynth_design
        export_design -format ip_catalog -rtl verilog
    } else {
        # C/RTL co-simulation: the same testbench and vectors drive the synthesized RTL of this top
        csynth_design
        cosim_design -argv [file normalize $vectors] -trace_level none
    }
    close_project
}
exit 0
