// The frame's activation buffers between calls (docs/performance.md, "Resources"): three
// rtl/src/act_buffer.sv memories hold every activation that waits between two calls in every phase of
// a layer (python_ref.kernels.act_buffer.BufferShape.residual / .hidden / .logits give the same shapes):
//
//   x_  the residual x: T rows of D act values in the engine's LO lanes. LayerNorm reads its rows,
//       the accumulate calls (proj, fc2, the experts' fc2, the patch embedding) read their acc_ from
//       it and write their y_ back.
//   h_  what only the engine's x_ reads, as operands in its LI lanes: fc1's hidden rows in a dense MLP
//       layer; in a MoE layer LN2(x) in the first ceil(D / LI) beats of each row (each expert's fc1
//       gathers its rows) beside an expert's hidden rows in the beats after.
//   g_  a MoE layer's gate logits: T rows of E act values, one beat of E lanes a row (the low E lanes
//       of the gate call's y_ beat; moe_router reads them, through a lane adapter, as its x_).
//
// Everything else streams from unit to unit: LN(x) into the next call's input buffer
// (rtl/src/layernorm_linear.sv), qkv into attention's store, attention into proj's input buffer.
// Each buffer's ports are act_buffer's, prefixed.
`default_nettype none

module act_buffers
  import model_pkg::*;
#(
    // h: the dense MLP's hidden width, or LN2(x)'s beats and an expert's hidden rows side by side
    localparam int D_BEATS = (FEATURE_DIM + LINEAR_IN - 1) / LINEAR_IN,
    localparam int MOE_VALUES = NUM_LAYERS > 1 ? D_BEATS * LINEAR_IN + EXPERT_HIDDEN_DIM : 0,   // odd layers are MoE
    localparam int H_VALUES = MLP_HIDDEN_DIM > MOE_VALUES ? MLP_HIDDEN_DIM : MOE_VALUES
) (
    input  logic                       clk,
    input  logic                       rst_n,
    input  logic [63:0]                x_cmd_TDATA,
    input  logic                       x_cmd_TVALID,
    output logic                       x_cmd_TREADY,
    input  logic                       x_cmd_TLAST,
    input  logic [LINEAR_OUT*ACT_W-1:0] x_wr_TDATA,
    input  logic                       x_wr_TVALID,
    output logic                       x_wr_TREADY,
    input  logic                       x_wr_TLAST,
    output logic [LINEAR_OUT*ACT_W-1:0] x_rd_TDATA,
    output logic                       x_rd_TVALID,
    input  logic                       x_rd_TREADY,
    output logic                       x_rd_TLAST,
    output logic                       x_idle,
    output logic                       x_err,
    input  logic [63:0]                h_cmd_TDATA,
    input  logic                       h_cmd_TVALID,
    output logic                       h_cmd_TREADY,
    input  logic                       h_cmd_TLAST,
    input  logic [LINEAR_IN*ACT_W-1:0] h_wr_TDATA,
    input  logic                       h_wr_TVALID,
    output logic                       h_wr_TREADY,
    input  logic                       h_wr_TLAST,
    output logic [LINEAR_IN*ACT_W-1:0] h_rd_TDATA,
    output logic                       h_rd_TVALID,
    input  logic                       h_rd_TREADY,
    output logic                       h_rd_TLAST,
    output logic                       h_idle,
    output logic                       h_err,
    input  logic [63:0]                g_cmd_TDATA,
    input  logic                       g_cmd_TVALID,
    output logic                       g_cmd_TREADY,
    input  logic                       g_cmd_TLAST,
    input  logic [NUM_EXPERTS*ACT_W-1:0] g_wr_TDATA,
    input  logic                       g_wr_TVALID,
    output logic                       g_wr_TREADY,
    input  logic                       g_wr_TLAST,
    output logic [NUM_EXPERTS*ACT_W-1:0] g_rd_TDATA,
    output logic                       g_rd_TVALID,
    input  logic                       g_rd_TREADY,
    output logic                       g_rd_TLAST,
    output logic                       g_idle,
    output logic                       g_err
);
  act_buffer #(.L(LINEAR_OUT), .VALUES(FEATURE_DIM), .ROWS(NUM_TOKENS), .NARROW(1'b0)) u_x (
      .clk, .rst_n,
      .cmd_TDATA(x_cmd_TDATA), .cmd_TVALID(x_cmd_TVALID), .cmd_TREADY(x_cmd_TREADY), .cmd_TLAST(x_cmd_TLAST),
      .wr_TDATA(x_wr_TDATA), .wr_TVALID(x_wr_TVALID), .wr_TREADY(x_wr_TREADY), .wr_TLAST(x_wr_TLAST),
      .rd_TDATA(x_rd_TDATA), .rd_TVALID(x_rd_TVALID), .rd_TREADY(x_rd_TREADY), .rd_TLAST(x_rd_TLAST),
      .idle(x_idle), .err(x_err));
  act_buffer #(.L(LINEAR_IN), .VALUES(H_VALUES), .ROWS(NUM_TOKENS), .NARROW(1'b1)) u_h (
      .clk, .rst_n,
      .cmd_TDATA(h_cmd_TDATA), .cmd_TVALID(h_cmd_TVALID), .cmd_TREADY(h_cmd_TREADY), .cmd_TLAST(h_cmd_TLAST),
      .wr_TDATA(h_wr_TDATA), .wr_TVALID(h_wr_TVALID), .wr_TREADY(h_wr_TREADY), .wr_TLAST(h_wr_TLAST),
      .rd_TDATA(h_rd_TDATA), .rd_TVALID(h_rd_TVALID), .rd_TREADY(h_rd_TREADY), .rd_TLAST(h_rd_TLAST),
      .idle(h_idle), .err(h_err));
  act_buffer #(.L(NUM_EXPERTS), .VALUES(NUM_EXPERTS), .ROWS(NUM_TOKENS), .NARROW(1'b0)) u_g (
      .clk, .rst_n,
      .cmd_TDATA(g_cmd_TDATA), .cmd_TVALID(g_cmd_TVALID), .cmd_TREADY(g_cmd_TREADY), .cmd_TLAST(g_cmd_TLAST),
      .wr_TDATA(g_wr_TDATA), .wr_TVALID(g_wr_TVALID), .wr_TREADY(g_wr_TREADY), .wr_TLAST(g_wr_TLAST),
      .rd_TDATA(g_rd_TDATA), .rd_TVALID(g_rd_TVALID), .rd_TREADY(g_rd_TREADY), .rd_TLAST(g_rd_TLAST),
      .idle(g_idle), .err(g_err));
endmodule

`default_nettype wire
