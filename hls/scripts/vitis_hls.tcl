# Vendor flow for hls/: C simulation, synthesis and RTL export with Vitis HLS.
#   make vitis-csim  [CONFIG=configs/<name>.yaml] [KERNELS="gelu ..."]
#   make vitis-synth [CONFIG=configs/<name>.yaml] [KERNELS="gelu ..."]
# The Makefile exports MODE (csim | synth), CONFIG_NAME, KERNELS and VECTORS (a folder holding
# <kernel>/in.txt and <kernel>/expected.txt written from python_ref by scripts/export_vectors.py),
# and runs this script from the repository root. Part and clock come from the YAML through
# hls/generated/<config>/settings.tcl.

proc require_env {name} {
    if {![info exists ::env($name)]} {
        puts stderr "error: environment variable $name is not set: run this script through `make vitis-csim` or `make vitis-synth`"
        exit 2
    }
    return $::env($name)
}

set mode    [require_env MODE]
set cfg     [require_env CONFIG_NAME]
set kernels [require_env KERNELS]
set vectors [file normalize [require_env VECTORS]]
set root    [pwd]
set gen     "$root/hls/generated/$cfg"
if {![file exists "$gen/settings.tcl"]} {
    puts stderr "error: $gen/settings.tcl not found: run `make generate`"
    exit 2
}
source "$gen/settings.tcl"
if {$mode ne "csim" && $mode ne "synth"} {
    puts stderr "error: MODE must be csim or synth, got '$mode'"
    exit 2
}

# hls/include/shim is deliberately absent: the vendor's own ap_axi_sdata.h is used.
set cflags "-std=c++14 -I$root/hls/src -I$gen"

foreach kernel $kernels {
    set src "$root/hls/src/$kernel.cpp"
    set tb  "$root/hls/tb/${kernel}_tb.cpp"
    foreach f [list $src $tb] {
        if {![file exists $f]} {
            puts stderr "error: $f not found (kernel '$kernel')"
            exit 2
        }
    }
    open_project -reset "build/vitis/$cfg/$kernel"
    set_top "${kernel}_top"
    add_files $src -cflags $cflags
    add_files -tb $tb -cflags $cflags
    open_solution -reset "solution" -flow_target vivado
    set_part $PART
    create_clock -period $CLOCK_PERIOD_NS -name default
    if {$mode eq "csim"} {
        set in  "$vectors/$kernel/in.txt"
        set exp "$vectors/$kernel/expected.txt"
        csim_design -argv "$in out.txt $exp"
    } else {
        csynth_design
        export_design -format ip_catalog -rtl verilog
    }
    close_project
}
exit 0
