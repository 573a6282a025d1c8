// C-simulation testbench of exp_top (hls/tb/tb_io.h calling convention: exp_tb <vector_dir>).
// Vector folder: in.txt (raw exp_in_t, ap_fixed<33,11>: x <= 0 in use), expected.txt (raw exp_out_t).
#include "exp.h"
#include "tb_raw.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> in = tb_read(a, "in.txt");
    tb_check_raw<exp_in_t>(a.path("in.txt"), in, "exp_in_t");
    return tb_finish("exp_tb", a, tb_each_value<exp_in_t, exp_out_t>(in, exp_top));
}
