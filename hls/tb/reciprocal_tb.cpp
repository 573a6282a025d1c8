// C-simulation testbench of reciprocal_top (hls/tb/tb_io.h calling convention: reciprocal_tb <vector_dir>).
// Vector folder: in.txt (raw softmax_sum_t, ap_ufixed<32,8>), expected.txt (raw softmax_recip_t).
#include "reciprocal.h"
#include "tb_raw.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> in = tb_read(a, "in.txt");
    tb_check_raw<softmax_sum_t>(a.path("in.txt"), in, "softmax_sum_t");
    return tb_finish("reciprocal_tb", a, tb_each_value<softmax_sum_t, softmax_recip_t>(in, reciprocal_top));
}
