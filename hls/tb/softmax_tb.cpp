// C-simulation testbench of softmax_stats_top + softmax_prob_top (vitis_hls csim, tests/test_softmax.py).
// Usage: softmax_tb <rows> <n> <scores.txt> <order.txt> <output.txt>
// scores.txt: rows*n raw act_t values, row-major in ORIGINAL positions; order.txt: rows*n indices,
// row k lists the positions of row k's scores in arrival order (a permutation of 0..n-1).
// output.txt, per row: m, s, r (raw), then the n probabilities (raw) in original positions.
#include <cstdlib>

#include "nonlinear_tb_io.h"
#include "softmax.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s <rows> <n> <scores.txt> <order.txt> <output.txt>\n", argv[0]);
        return 2;
    }
    const long rows = std::atol(argv[1]), n = std::atol(argv[2]);
    if (rows < 1 || n < 1 || n > softmax_config::max_row) {
        std::fprintf(stderr, "error: need rows >= 1 and 1 <= n <= %d, got rows=%ld n=%ld\n",
                     softmax_config::max_row, rows, n);
        return 2;
    }
    std::vector<long long> x = tb_read_or_die(argv[3]), order = tb_read_or_die(argv[4]);
    if ((long)x.size() != rows * n || (long)order.size() != rows * n) {
        std::fprintf(stderr, "error: scores and order must hold rows*n = %ld integers (got %zu, %zu)\n",
                     rows * n, x.size(), order.size());
        return 2;
    }
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
    if (!tb_write_ints(argv[5], out)) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[5]);
        return 2;
    }
    std::printf("softmax_tb: %ld rows of %ld scores\n", rows, n);
    return 0;
}
