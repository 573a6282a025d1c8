// C-simulation testbench of layernorm_top (hls/tb/tb_io.h calling convention: layernorm_tb <vector_dir>).
// Vector folder: meta.txt (rows), x.txt (rows*FEATURE_DIM raw act_t values, row-major), gamma.txt and
// beta.txt (FEATURE_DIM raw norm_param_t values each), expected.txt (rows*FEATURE_DIM raw act_t).
#include "layernorm.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const long rows = tb_meta(a, "rows", 1, 1L << 30);
    constexpr int D = FEATURE_DIM, W = act_t::width, PW = norm_param_t::width;
    std::vector<long long> x = tb_read(a, "x.txt"), g = tb_read(a, "gamma.txt"), b = tb_read(a, "beta.txt");
    if ((long)x.size() != rows * D || g.size() != (size_t)D || b.size() != (size_t)D)
        tb_fail("x.txt must hold rows*" + std::to_string(D) + " values, gamma.txt and beta.txt " + std::to_string(D));
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
    return tb_finish("layernorm_tb", a, out, [&](size_t i) {
        return "row " + std::to_string(i / D) + " feature " + std::to_string(i % D);
    });
}
