// C-simulation testbench of gelu_top (used by `vitis_hls` csim and by tests/test_csim_gelu.py).
// Usage: gelu_tb <input.txt> <output.txt> [expected.txt]
// Files hold one activation raw integer (two's complement value of act_t) per line. The inputs
// are packed gelu_config::lanes per beat (a short last beat is padded with zeros, and its padding
// dropped on output), TLAST marks the final beat and must come back on the final beat only.
// With expected.txt the testbench compares and exits 1 on any mismatch.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "gelu.h"

static bool read_ints(const char* path, std::vector<long long>& v) {
    std::ifstream f(path);
    if (!f) return false;
    long long x;
    while (f >> x) v.push_back(x);
    return f.eof();
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <input.txt> <output.txt> [expected.txt]\n", argv[0]);
        return 2;
    }
    std::vector<long long> in;
    if (!read_ints(argv[1], in)) {
        std::fprintf(stderr, "error: cannot read integers from %s\n", argv[1]);
        return 2;
    }
    constexpr unsigned L = gelu_config::lanes;
    constexpr int W = act_t::width;
    const size_t beats = (in.size() + L - 1) / L;
    hls::stream<gelu_axis_t> x, y;
    for (size_t b = 0; b < beats; b++) {
        gelu_axis_t beat;
        beat.data = 0;
        for (unsigned i = 0; i < L && b * L + i < in.size(); i++) {
            ap_int<W> raw = in[b * L + i];
            beat.data(i * W + W - 1, i * W) = raw;
        }
        beat.last = (b + 1 == beats);
        x.write(beat);
    }
    for (size_t b = 0; b < beats; b++) gelu_top(x, y);

    std::vector<long long> out;
    for (size_t b = 0; b < beats; b++) {
        gelu_axis_t beat = y.read();
        if (beat.last != (b + 1 == beats)) {
            std::fprintf(stderr, "error: TLAST wrong on beat %zu\n", b);
            return 1;
        }
        for (unsigned i = 0; i < L && b * L + i < in.size(); i++) {
            ap_int<W> raw = beat.data(i * W + W - 1, i * W);
            out.push_back(raw.to_int64());
        }
    }
    if (!y.empty()) {
        std::fprintf(stderr, "error: gelu_top produced more beats than it consumed\n");
        return 1;
    }
    std::ofstream f(argv[2]);
    for (long long v : out) f << v << "\n";
    if (!f) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[2]);
        return 2;
    }
    if (argc > 3) {
        std::vector<long long> exp;
        if (!read_ints(argv[3], exp) || exp.size() != out.size()) {
            std::fprintf(stderr, "error: %s must hold %zu integers\n", argv[3], out.size());
            return 2;
        }
        size_t bad = 0;
        for (size_t i = 0; i < out.size(); i++)
            if (out[i] != exp[i] && bad++ < 10)
                std::fprintf(stderr, "mismatch at %zu: x=%lld got %lld expected %lld\n", i, in[i], out[i], exp[i]);
        std::printf("gelu_tb: %zu values, %zu mismatches\n", out.size(), bad);
        return bad ? 1 : 0;
    }
    std::printf("gelu_tb: %zu values written to %s\n", out.size(), argv[2]);
    return 0;
}
