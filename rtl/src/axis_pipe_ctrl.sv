// Flow control of a fixed-depth, stall-as-a-whole AXI-Stream pipeline (gelu, exp, softmax_prob).
//
// A beat accepted at the input travels STAGES registered stages with its valid and TLAST bits;
// the datapath registers advance on `ce`, which is high unless the last stage holds a beat the
// downstream register slice (axis_skid) cannot take. With that slice's s_ready a flip-flop,
// s_axis_tready = running && ce is a function of flip-flops only: no combinational path from the
// output's TREADY or the input's TVALID to the input's TREADY. `running` keeps s_axis_tready low in
// reset and until the first clock edge after it.
`default_nettype none

module axis_pipe_ctrl #(
    parameter int STAGES = 1
) (
    input  logic clk,
    input  logic rst_n,       // synchronous, active low
    input  logic s_axis_tvalid,
    input  logic s_axis_tlast,
    output logic s_axis_tready,
    output logic ce,          // datapath clock enable
    output logic m_axis_tvalid,   // the last stage holds a beat
    output logic m_axis_tlast,
    input  logic m_axis_tready    // s_ready of the output register slice
);
  if (STAGES < 1) begin : g_chk
    $error("axis_pipe_ctrl: STAGES must be >= 1, got %0d", STAGES);
  end

  logic running;
  logic [STAGES:1] v, l;

  assign ce        = !v[STAGES] || m_axis_tready;
  assign s_axis_tready  = running && ce;
  assign m_axis_tvalid = v[STAGES];
  assign m_axis_tlast  = l[STAGES];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      running <= 1'b0;
      v <= '0;
    end else begin
      running <= 1'b1;
      if (ce) v <= STAGES'({v, s_axis_tvalid && running});
    end
  end

  always_ff @(posedge clk) begin
    if (ce) l <= STAGES'({l, s_axis_tlast});
  end
endmodule

`default_nettype wire
