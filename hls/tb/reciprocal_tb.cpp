// C-simulation testbench of reciprocal_top (vitis_hls csim and tests/test_reciprocal.py).
// Usage: reciprocal_tb <input.txt> <output.txt>
// input: raw integers of softmax_sum_t (ap_ufixed<32,8>); output: raw softmax_recip_t.
#include "nonlinear_tb_io.h"
#include "reciprocal.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <input.txt> <output.txt>\n", argv[0]);
        return 2;
    }
    std::vector<long long> in = tb_read_or_die(argv[1]);
    constexpr int WI = softmax_sum_t::width, WO = softmax_recip_t::width;
    hls::stream<softmax_sum_t> x;
    hls::stream<softmax_recip_t> y;
    std::vector<long long> out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] < 0 || in[i] >= (1LL << WI)) {
            std::fprintf(stderr, "error: input %zu = %lld outside the raw range of softmax_sum_t\n", i, in[i]);
            return 2;
        }
        softmax_sum_t v;
        v.range(WI - 1, 0) = ap_uint<WI>(in[i]);
        x.write(v);
        reciprocal_top(x, y);
        out.push_back((long long)ap_uint<WO>(y.read().range(WO - 1, 0)).to_uint64());
    }
    if (!tb_write_ints(argv[2], out)) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[2]);
        return 2;
    }
    std::printf("reciprocal_tb: %zu values\n", out.size());
    return 0;
}
