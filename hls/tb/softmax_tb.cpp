// C-simulation testbench of softmax_top, the two-pass softmax (hls/tb/tb_io.h calling convention:
// softmax_tb <vector_dir>). Vector folder: meta.txt (rows, scores), lengths.txt (rows lengths n,
// 1..255), x.txt (the rows' raw act_t scores, concatenated), expected.txt. Outputs, per row: m, s,
// r (raw), then its n probabilities (raw). The testbench also calls softmax_top with n = 0 before
// every row and checks that it reads and writes nothing (exit 1 otherwise).
#include "softmax.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const long rows = tb_meta(a, "rows", 1, 1L << 30), total = tb_meta(a, "scores", 1, 1L << 40);
    std::vector<long long> len = tb_read(a, "lengths.txt"), x = tb_read(a, "x.txt");
    if ((long)len.size() != rows) tb_fail("lengths.txt must hold rows = " + std::to_string(rows) + " integers");
    long sum = 0;
    for (long long n : len) {
        if (n < 1 || n > softmax_config::max_row) tb_fail("lengths.txt: a row length outside 1..255");
        sum += n;
    }
    if (sum != total || (long)x.size() != total) tb_fail("x.txt must hold the sum of the row lengths = scores");
    constexpr int W = act_t::width;
    std::vector<long long> out;
    long at = 0;
    for (long row = 0; row < rows; row++) {
        const long n = len[row];
        hls::stream<act_t> in;
        hls::stream<softmax_prob_t> p;
        hls::stream<softmax_stats_t> st;
        act_t first;
        first.range(W - 1, 0) = ap_int<W>(x[at]);
        in.write(first);
        softmax_top(in, p, st, 0);  // no row: the waiting score stays, nothing comes out
        if (in.size() != 1 || !p.empty() || !st.empty()) {
            std::fprintf(stderr, "error: softmax_top with n = 0 read or wrote a value (row %ld)\n", row);
            return 1;
        }
        for (long i = 1; i < n; i++) {
            act_t v;
            v.range(W - 1, 0) = ap_int<W>(x[at + i]);
            in.write(v);
        }
        softmax_top(in, p, st, softmax_len_t(n));
        const softmax_stats_t s = st.read();
        out.push_back(ap_int<W>(s.m.range(W - 1, 0)).to_int64());
        out.push_back((long long)ap_uint<softmax_sum_t::width>(s.s.range(softmax_sum_t::width - 1, 0)).to_uint64());
        out.push_back((long long)ap_uint<softmax_recip_t::width>(s.r.range(softmax_recip_t::width - 1, 0)).to_uint64());
        for (long i = 0; i < n; i++)
            out.push_back((long long)ap_uint<softmax_prob_t::width>(p.read().range(softmax_prob_t::width - 1, 0)).to_uint64());
        if (!in.empty() || !p.empty() || !st.empty()) {
            std::fprintf(stderr, "error: row %ld left values in a stream\n", row);
            return 1;
        }
        at += n;
    }
    return tb_finish("softmax_tb", a, out);
}
