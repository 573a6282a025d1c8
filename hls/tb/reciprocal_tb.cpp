// C-simulation testbench of reciprocal_top (hls/tb/tb_io.h calling convention: reciprocal_tb <vector_dir>).
// Vector folder: in.txt (raw softmax_sum_t, ap_ufixed<32,8>), expected.txt (raw softmax_recip_t).
#include "reciprocal.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> in = tb_read(a, "in.txt");
    constexpr int WI = softmax_sum_t::width, WO = softmax_recip_t::width;
    hls::stream<softmax_sum_t> x;
    hls::stream<softmax_recip_t> y;
    std::vector<long long> out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] < 0 || in[i] >= (1LL << WI))
            tb_fail(a.path("in.txt") + ": value " + std::to_string(i) + " = " + std::to_string(in[i]) +
                    " outside the raw range of softmax_sum_t");
        softmax_sum_t v;
        v.range(WI - 1, 0) = ap_uint<WI>(in[i]);
        x.write(v);
        reciprocal_top(x, y);
        out.push_back((long long)ap_uint<WO>(y.read().range(WO - 1, 0)).to_uint64());
    }
    return tb_finish("reciprocal_tb", a, out);
}
