// The MoE layer's RTL top with the gate's own linear call: rtl/src/moe_layer.sv with GATE_CALL = 1
// and only the ports that variant uses (docs/moe.md, "RTL MoE layer"). LN2(x) in, moe_acc out;
// bit-exact to python_ref.kernels.moe.run_schedule(x, weights,
// decode_descriptors(descriptor_words(route(gate_logits(x, w_gate, task)), ...))).
//
// Ports (Vitis stream naming, ap_ctrl_none):
//   task_id, n_tokens, layer_id
//             the layer's gate task, T (1..NUM_TOKENS) and MoE layer number, taken with its first
//             x_ beat (at that beat's handshake; later beats' values are ignored).
//   x_        LN2(x): T rows of ceil(D/LINEAR_IN) beats (moe_experts' x_); the next layer's beats
//             may follow at once (they wait until this layer's moe_acc is out).
//   ddr_      per layer, the gate image of the task (pack_matrix_axi of w_gate[task], E x D,
//             TUSER_spec = 0) and then EVERY expert's fc1, fc2 weight images (TUSER_spec = 1), each
//             tagged TUSER_layer = layer_id, TUSER_expert (the gate's expert tag is ignored).
//   ddrb_     the same for the biases: the gate's (pack_vector_axi of E zeros, spec 0), then every
//             expert's fc1, fc2 bias images (spec 1).
//   y_        moe_acc, TLAST on the layer's last beat.
//   err       moe_experts' err (T outside 1..NUM_TOKENS, or a malformed descriptor stream: cannot
//             happen with the router in front).
`default_nettype none

module moe_layer_gate
  import model_pkg::*;
#(
    parameter int WF_DEPTH = LINEAR_WEIGHT_FIFO_DEPTH > 1 ? LINEAR_WEIGHT_FIFO_DEPTH : 16,
    parameter int BF_DEPTH = 16,
    parameter int LAYER_BITS = 4,
    parameter int W_BITS = LINEAR_W_BITS,  // ddr_ / the engine's w_ word (moe_layer's)
    parameter int W_ROWS = LINEAR_W_ROWS   // rows per w_ word (moe_layer's)
) (
    input  logic                           ap_clk,
    input  logic                           ap_rst_n,   // synchronous, active low
    input  logic [MOE_H_TASK_W-1:0]        task_id,
    input  logic [7:0]                     n_tokens,
    input  logic [LAYER_BITS-1:0]          layer_id,
    input  logic [LINEAR_IN*ACT_W-1:0]     x_TDATA,
    input  logic                           x_TVALID,
    output logic                           x_TREADY,
    input  logic                           x_TLAST,        // ignored
    input  logic [W_BITS-1:0]              ddr_TDATA,
    input  logic                           ddr_TVALID,
    output logic                           ddr_TREADY,
    input  logic                           ddr_TLAST,
    input  logic                           ddr_TUSER_spec,
    input  logic [LAYER_BITS-1:0]          ddr_TUSER_layer,
    input  logic [$clog2(NUM_EXPERTS)-1:0] ddr_TUSER_expert,
    input  logic [AXI_WIDTH-1:0]           ddrb_TDATA,
    input  logic                           ddrb_TVALID,
    output logic                           ddrb_TREADY,
    input  logic                           ddrb_TLAST,
    input  logic                           ddrb_TUSER_spec,
    input  logic [LAYER_BITS-1:0]          ddrb_TUSER_layer,
    input  logic [$clog2(NUM_EXPERTS)-1:0] ddrb_TUSER_expert,
    output logic [LINEAR_OUT*ACT_W-1:0]    y_TDATA,
    output logic                           y_TVALID,
    input  logic                           y_TREADY,
    output logic                           y_TLAST,
    output logic                           err
);
  /* verilator lint_off PINCONNECTEMPTY */
  moe_layer #(.WF_DEPTH(WF_DEPTH), .BF_DEPTH(BF_DEPTH), .LAYER_BITS(LAYER_BITS), .W_BITS(W_BITS), .W_ROWS(W_ROWS), .GATE_CALL(1'b1))
      u_layer (
      .ap_clk, .ap_rst_n, .task_id, .n_tokens, .layer_id,
      .logits_TDATA('0), .logits_TVALID(1'b0), .logits_TREADY(), .logits_TLAST(1'b0),
      .x_TDATA, .x_TVALID, .x_TREADY, .x_TLAST,
      .ddr_TDATA, .ddr_TVALID, .ddr_TREADY, .ddr_TLAST, .ddr_TUSER_spec, .ddr_TUSER_layer, .ddr_TUSER_expert,
      .ddrb_TDATA, .ddrb_TVALID, .ddrb_TREADY, .ddrb_TLAST, .ddrb_TUSER_spec, .ddrb_TUSER_layer, .ddrb_TUSER_expert,
      .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST, .err);
  /* verilator lint_on PINCONNECTEMPTY */
endmodule

`default_nettype wire
