// C-simulation testbench of softmax_stats_top + softmax_prob_top (hls/tb/tb_io.h calling convention:
// softmax_tb <vector_dir>). Vector folder: meta.txt (rows, n), x.txt (rows*n raw act_t values,
// row-major in ORIGINAL positions), order.txt (rows*n indices: row k lists the positions of row k's
// scores in arrival order, a permutation of 0..n-1), expected.txt. Outputs, per row: m, s, r (raw),
// then the n probabilities (raw) in original positions.
#include "softmax.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const long rows = tb_meta(a, "rows", 1, 1L << 30), n = tb_meta(a, "n", 1, softmax_config::max_row);
    std::vector<long long> x = tb_read(a, "x.txt"), order = tb_read(a, "order.txt");
    if ((long)x.size() != rows * n || (long)order.size() != rows * n)
        tb_fail("x.txt and order.txt must hold rows*n = " + std::to_string(rows * n) + " integers");
    constexpr int W = act_t::width;
    std::vector<long long> out;
    for (long row = 0; row < rows; row++) {
        std::vector<act_t> v(n);
        std::vector<bool> seen(n, false);
        for (long i = 0; i < n; i++) v[i].range(W - 1, 0) = ap_int<W>(x[row * n + i]);
        hls::stream<act_t> in_stats, in_prob;
        hls::stream<softmax_stats_t> st;
        hls::stream<softmax_prob_t> p;
        for (long k = 0; k < n; k++) {
            long long j = order[row * n + k];
            if (j < 0 || j >= n || seen[j]) {
                std::fprintf(stderr, "error: order row %ld is not a permutation of 0..%ld\n", row, n - 1);
                return 2;
            }
            seen[j] = true;
            in_stats.write(v[j]);
        }
        softmax_stats_top(in_stats, st, n);
        softmax_stats_t s = st.read();
        st.write(s);
        for (long i = 0; i < n; i++) in_prob.write(v[i]);
        softmax_prob_top(in_prob, st, p, n);
        out.push_back(ap_int<W>(s.m.range(W - 1, 0)).to_int64());
        out.push_back((long long)ap_uint<softmax_sum_t::width>(s.s.range(softmax_sum_t::width - 1, 0)).to_uint64());
        out.push_back((long long)ap_uint<softmax_recip_t::width>(s.r.range(softmax_recip_t::width - 1, 0)).to_uint64());
        for (long i = 0; i < n; i++)
            out.push_back((long long)ap_uint<softmax_prob_t::width>(p.read().range(softmax_prob_t::width - 1, 0)).to_uint64());
        if (!in_stats.empty() || !in_prob.empty() || !p.empty() || !st.empty()) {
            std::fprintf(stderr, "error: row %ld left values in a stream\n", row);
            return 1;
        }
    }
    return tb_finish("softmax_tb", a, out, [&](size_t i) {
        return "row " + std::to_string(i / (n + 3)) + " field " + std::to_string(i % (n + 3)) + " (m, s, r, p...)";
    });
}
