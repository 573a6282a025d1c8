// C-simulation testbench of exp_top (hls/tb/tb_io.h calling convention: exp_tb <vector_dir>).
// Vector folder: in.txt (raw exp_in_t, ap_fixed<33,11>: x <= 0 in use), expected.txt (raw exp_out_t).
#include "exp.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> in = tb_read(a, "in.txt");
    constexpr int W = exp_in_t::width;
    const long long lo = -(1LL << (W - 1)), hi = (1LL << (W - 1)) - 1;
    hls::stream<exp_in_t> x;
    hls::stream<exp_out_t> y;
    std::vector<long long> out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] < lo || in[i] > hi)
            tb_fail(a.path("in.txt") + ": value " + std::to_string(i) + " = " + std::to_string(in[i]) +
                    " outside the raw range of exp_in_t");
        exp_in_t v;
        v.range(W - 1, 0) = ap_int<W>(in[i]);
        x.write(v);
        exp_top(x, y);
        exp_out_t r = y.read();
        out.push_back((long long)ap_uint<exp_out_t::width>(r.range(exp_out_t::width - 1, 0)).to_uint64());
    }
    return tb_finish("exp_tb", a, out);
}
