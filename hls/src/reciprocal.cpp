#include "reciprocal.h"

void reciprocal_top(hls::stream<softmax_sum_t>& x, hls::stream<softmax_recip_t>& y) {
#pragma HLS interface mode=axis port=x
#pragma HLS interface mode=axis port=y
#pragma HLS interface mode=ap_ctrl_none port=return
#pragma HLS pipeline II=1 style=flp
    y.write(reciprocal<reciprocal_config>(x.read()));
}
