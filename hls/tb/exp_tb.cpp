// C-simulation testbench of exp_top (vitis_hls csim and tests/test_exp.py).
// Usage: exp_tb <input.txt> <output.txt>
// input: raw integers of exp_in_t (ap_fixed<33,11>, x <= 0 in use); output: raw exp_out_t.
#include <cstdlib>

#include "exp.h"
#include "nonlinear_tb_io.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <input.txt> <output.txt>\n", argv[0]);
        return 2;
    }
    std::vector<long long> in = tb_read_or_die(argv[1]);
    constexpr int W = exp_in_t::width;
    const long long lo = -(1LL << (W - 1)), hi = (1LL << (W - 1)) - 1;
    hls::stream<exp_in_t> x;
    hls::stream<exp_out_t> y;
    std::vector<long long> out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] < lo || in[i] > hi) {
            std::fprintf(stderr, "error: input %zu = %lld outside the raw range of exp_in_t\n", i, in[i]);
            return 2;
        }
        exp_in_t v;
        v.range(W - 1, 0) = ap_int<W>(in[i]);
        x.write(v);
        exp_top(x, y);
        exp_out_t r = y.read();
        out.push_back((long long)ap_uint<exp_out_t::width>(r.range(exp_out_t::width - 1, 0)).to_uint64());
    }
    if (!tb_write_ints(argv[2], out)) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[2]);
        return 2;
    }
    std::printf("exp_tb: %zu values\n", out.size());
    return 0;
}
