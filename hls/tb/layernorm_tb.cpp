// C-simulation testbench of layernorm_top (vitis_hls csim and tests/test_layernorm.py).
// Usage: layernorm_tb <rows> <x.txt> <gamma.txt> <beta.txt> <output.txt>
// x.txt: rows*FEATURE_DIM raw act_t values, row-major; gamma/beta.txt: FEATURE_DIM raw norm_param_t
// values; output.txt: rows*FEATURE_DIM raw act_t values.
#include <cstdlib>

#include "layernorm.h"
#include "nonlinear_tb_io.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s <rows> <x.txt> <gamma.txt> <beta.txt> <output.txt>\n", argv[0]);
        return 2;
    }
    const long rows = std::atol(argv[1]);
    constexpr int D = FEATURE_DIM, W = act_t::width, PW = norm_param_t::width;
    std::vector<long long> x = tb_read_or_die(argv[2]), g = tb_read_or_die(argv[3]), b = tb_read_or_die(argv[4]);
    if (rows < 1 || (long)x.size() != rows * D || g.size() != (size_t)D || b.size() != (size_t)D) {
        std::fprintf(stderr, "error: need rows >= 1, rows*%d inputs and %d gamma/beta values (got %zu, %zu, %zu)\n",
                     D, D, x.size(), g.size(), b.size());
        return 2;
    }
    norm_param_t gamma[D], beta[D];
    for (int i = 0; i < D; i++) {
        gamma[i].range(PW - 1, 0) = ap_int<PW>(g[i]);
        beta[i].range(PW - 1, 0) = ap_int<PW>(b[i]);
    }
    std::vector<long long> out;
    out.reserve(x.size());
    for (long row = 0; row < rows; row++) {
        hls::stream<act_t> in, res;
        for (int i = 0; i < D; i++) {
            act_t v;
            v.range(W - 1, 0) = ap_int<W>(x[row * D + i]);
            in.write(v);
        }
        layernorm_top(in, res, gamma, beta);
        for (int i = 0; i < D; i++) out.push_back(ap_int<W>(res.read().range(W - 1, 0)).to_int64());
        if (!res.empty() || !in.empty()) {
            std::fprintf(stderr, "error: row %ld: layernorm_top did not consume/produce exactly %d values\n", row, D);
            return 1;
        }
    }
    if (!tb_write_ints(argv[5], out)) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[5]);
        return 2;
    }
    std::printf("layernorm_tb: %ld rows of %d\n", rows, D);
    return 0;
}
