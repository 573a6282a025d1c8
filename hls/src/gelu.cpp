#include "gelu.h"

void gelu_top(hls::stream<gelu_axis_t>& x, hls::stream<gelu_axis_t>& y) {
#pragma HLS interface mode=axis port=x
#pragma HLS interface mode=axis port=y
#pragma HLS interface mode=ap_ctrl_none port=return
#pragma HLS pipeline II=1 style=flp
#pragma HLS bind_storage variable=GELU_DELTA_TABLE type=rom_np impl=lutram
    constexpr int W = act_t::width;
    gelu_axis_t in = x.read();
    gelu_axis_t out;
gelu_lanes:
    for (unsigned i = 0; i < gelu_config::lanes; i++) {
#pragma HLS unroll
        act_t v;
        v.range(W - 1, 0) = in.data(i * W + W - 1, i * W);
        act_t r = gelu<gelu_config>(v);
        out.data(i * W + W - 1, i * W) = r.range(W - 1, 0);
    }
    out.keep = -1;
    out.strb = -1;
    out.last = in.last;
    y.write(out);
}
