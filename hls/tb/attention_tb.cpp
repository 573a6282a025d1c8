// C-simulation testbench of attention_top (hls/tb/tb_io.h calling convention: attention_tb
// <vector_dir>). Vector folder (cosim/attention_vectors.py: attention_csim): meta.txt ("sets <n>"),
// tokens.txt (T of each set), qkv.txt (each set's T x 3D raw act_t values, row-major, set after set),
// expected.txt (python_ref's attn_out of each set, T x D raw act_t, set after set).
// The testbench is the host: it packs each set's qkv into AXI words (the layout of attention.h),
// calls attention_top once per set and unpacks attn_out.
#include <string>
#include <vector>

#include "attention.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const long long sets = tb_meta(a, "sets", 1, 1 << 20);
    const std::vector<long long> tokens = tb_read(a, "tokens.txt");
    const std::vector<long long> qkv = tb_read(a, "qkv.txt");
    if ((long long)tokens.size() != sets)
        tb_fail(a.path("tokens.txt") + " must hold " + std::to_string(sets) + " token counts (meta.txt sets)");
    size_t need = 0;
    for (long long t : tokens) {
        if (t < 1 || t > ATTENTION_MAX_TOKENS)
            tb_fail(a.path("tokens.txt") + ": T = " + std::to_string(t) + " outside 1.." + std::to_string(ATTENTION_MAX_TOKENS));
        need += (size_t)t * 3 * FEATURE_DIM;
    }
    if (qkv.size() != need)
        tb_fail(a.path("qkv.txt") + " holds " + std::to_string(qkv.size()) + " values, the sets need " + std::to_string(need));
    const long long lo = -(1LL << (ACT_W - 1)), hi = (1LL << (ACT_W - 1)) - 1;
    for (long long v : qkv)
        if (v < lo || v > hi) tb_fail(a.path("qkv.txt") + ": raw value " + std::to_string(v) + " outside act_t");

    std::vector<long long> out;
    std::vector<std::pair<long long, size_t>> where;
    size_t pos = 0;
    for (long long n = 0; n < sets; n++) {
        const size_t T = tokens[n];
        std::vector<attention_word_t> in(ATTENTION_QKV_WORDS, attention_word_t(0)), res(ATTENTION_OUT_WORDS, attention_word_t(0));
        for (size_t i = 0; i < T * 3 * FEATURE_DIM; i++) {
            const size_t lane = i % ATTENTION_A_PER_WORD;  // rows are whole words (3D % lanes == 0)
            in[i / ATTENTION_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W) = ap_int<ACT_W>(qkv[pos + i]);
        }
        pos += T * 3 * FEATURE_DIM;
        attention_top(in.data(), res.data(), (unsigned)T);
        for (size_t i = 0; i < T * FEATURE_DIM; i++) {
            const size_t lane = i % ATTENTION_A_PER_WORD;
            ap_int<ACT_W> r = res[i / ATTENTION_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W);
            out.push_back(r.to_int64());
            where.emplace_back(n, i);
        }
    }
    return tb_finish("attention_tb", a, out, [&](size_t k) {
        return "set " + std::to_string(where[k].first) + " value " + std::to_string(where[k].second) + " (row " +
               std::to_string(where[k].second / FEATURE_DIM) + ", column " + std::to_string(where[k].second % FEATURE_DIM) +
               ")";
    });
}
