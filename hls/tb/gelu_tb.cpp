// C-simulation testbench of gelu_top (hls/tb/tb_io.h calling convention: gelu_tb <vector_dir>).
// Vector folder: in.txt (raw act_t values), expected.txt. The inputs are packed gelu_config::lanes
// per beat (a short last beat is padded with zeros, and its padding dropped on output); TLAST marks
// the final beat and must come back on the final beat only.
#include "gelu.h"
#include "tb_io.h"

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> in = tb_read(a, "in.txt");
    constexpr unsigned L = gelu_config::lanes;
    constexpr int W = act_t::width;
    const size_t beats = (in.size() + L - 1) / L;
    hls::stream<gelu_axis_t> x, y;
    for (size_t b = 0; b < beats; b++) {
        gelu_axis_t beat;
        beat.data = 0;
        for (unsigned i = 0; i < L && b * L + i < in.size(); i++) {
            if (in[b * L + i] < -(1LL << (W - 1)) || in[b * L + i] >= (1LL << (W - 1)))
                tb_fail(a.path("in.txt") + ": value " + std::to_string(b * L + i) + " outside act_t");
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
    return tb_finish("gelu_tb", a, out, [&](size_t i) { return "at " + std::to_string(i) + " (x=" + std::to_string(in[i]) + ")"; });
}
