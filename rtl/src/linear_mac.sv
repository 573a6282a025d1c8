// MAC array of the unified compute unit: LO x LI multiply-accumulates per cycle (one weight tile),
// bit-exact to python_ref.kernels.linear.compute_linear (without GELU / output modes):
//   acc = bias (first tile of an output block);  acc += sum_i act(x[i] * w[o][i]);  y = acc (last tile)
// act(.) = floor to the accumulator's fraction bits (AP_TRN) and wrap to AW bits (AP_WRAP). Every
// addition is then modulo 2^AW, so the LI products of a tile are summed by a tree in any order.
//
// This is the datapath only: the tile schedule (rows x out-blocks x in-blocks, hls/src/linear.cpp
// linear_mac) is the driver's job; it presents one tile per cycle with in_valid, no backpressure.
//   in_x     LI activations (AW bits each, AF fraction bits), lane i in bits [i*AW +: AW]
//   in_w     the tile, w[o][i] in bits [(o*LI + i)*WW +: WW] (WF fraction bits; linear_w_t)
//   in_bias  LO biases already in the accumulator format (used when in_first)
//   in_first first in-block of an output block (acc starts at the bias)
//   in_last  last in-block: out_y carries the finished outputs LATENCY cycles later
// Latency: LATENCY = 3 cycles from in_valid to out_valid (products, tree, accumulate); one tile per
// cycle throughput.
`default_nettype none

module linear_mac #(
    parameter int LI = model_pkg::LINEAR_IN,
    parameter int LO = model_pkg::LINEAR_OUT,
    parameter int AW = model_pkg::ACT_W,                       // accumulator / activation width
    // the weight operand linear_config::w_t: holds weight_t and patch_weight_t exactly (edge_moe: 18 bits, 16 fraction)
    parameter int WF = model_pkg::LINEAR_W_W - model_pkg::LINEAR_W_I,
    parameter int WW = model_pkg::LINEAR_W_W
) (
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic                 in_valid,
    input  logic                 in_first,
    input  logic                 in_last,
    input  logic [LI*AW-1:0]     in_x,
    input  logic [LO*LI*WW-1:0]  in_w,
    input  logic [LO*AW-1:0]     in_bias,
    output logic                 out_valid,
    output logic [LO*AW-1:0]     out_y
);
  localparam int PW = AW + WW;  // exact product width

  if (LI < 1 || LO < 1 || WF < 0 || WF + AW > PW) begin : g_chk
    $error("linear_mac: bad geometry LI %0d LO %0d AW %0d WW %0d WF %0d", LI, LO, AW, WW, WF);
  end

  // ---- stage 1: the LO x LI products, each floored to the accumulator grid (drop WF bits) and
  // wrapped to AW bits (keep the low AW bits)
  logic [AW-1:0] q_r [LO][LI];
  logic          v1, first1, last1;
  logic [LO*AW-1:0] bias1;
  always_ff @(posedge ap_clk) begin
    for (int o = 0; o < LO; o++) begin
      for (int i = 0; i < LI; i++) begin
        // The low WF bits (floored away) and the top bits (wrapped away) are dropped on purpose.
        /* verilator lint_off UNUSEDSIGNAL */
        logic signed [PW-1:0] p;
        /* verilator lint_on UNUSEDSIGNAL */
        p = PW'($signed(in_x[i*AW +: AW])) * PW'($signed(in_w[(o*LI + i)*WW +: WW]));
        q_r[o][i] <= p[WF +: AW];
      end
    end
    first1 <= in_first;
    last1 <= in_last;
    bias1 <= in_bias;
  end

  // ---- stage 2: sum of the LI quantized products per output, modulo 2^AW
  logic [AW-1:0] s_r [LO];
  logic          v2, first2, last2;
  logic [LO*AW-1:0] bias2;
  always_ff @(posedge ap_clk) begin
    for (int o = 0; o < LO; o++) begin
      logic [AW-1:0] s;
      s = '0;
      for (int i = 0; i < LI; i++) s = s + q_r[o][i];
      s_r[o] <= s;
    end
    first2 <= first1;
    last2 <= last1;
    bias2 <= bias1;
  end

  // ---- stage 3: accumulate (start from the bias on the first tile), emit on the last tile
  logic [AW-1:0] acc [LO];
  always_ff @(posedge ap_clk) begin
    if (v2) begin
      for (int o = 0; o < LO; o++) begin
        logic [AW-1:0] a;
        a = (first2 ? bias2[o*AW +: AW] : acc[o]) + s_r[o];
        acc[o] <= a;
        if (last2) out_y[o*AW +: AW] <= a;
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
      out_valid <= 1'b0;
    end else begin
      v1 <= in_valid;
      v2 <= v1;
      out_valid <= v2 && last2;
    end
  end
endmodule

`default_nettype wire
