// Flow control of a fixed-depth, stall-as-a-whole AXI-Stream pipeline (gelu, exp, softmax_prob).
//
// A beat accepted at the input travels STAGES registered stages with its valid and TLAST bits;
// the datapath registers advance on `ce`, which is high unless the last stage holds a beat the
// downstream register slice (axis_skid) cannot take. With that slice's s_ready a flip-flop,
// in_ready = running && ce is a function of flip-flops only: no combinational path from the
// output's TREADY or the input's TVALID to the input's TREADY. `running` keeps in_ready low in
// reset and until the first clock edge after it.
module axis_pipe_ctrl #(
    parameter int STAGES = 1
) (
    input  logic clk,
    input  logic rst_n,       // synchronous, active low
    input  logic in_valid,
    input  logic in_last,
    output logic in_ready,
    output logic ce,          // datapath clock enable
    output logic out_valid,   // the last stage holds a beat
    output logic out_last,
    input  logic out_ready    // s_ready of the output register slice
);
  if (STAGES < 1) begin : g_chk
    $error("axis_pipe_ctrl: STAGES must be >= 1, got %0d", STAGES);
  end

  logic running;
  logic [STAGES:1] v, l;

  assign ce        = !v[STAGES] || out_ready;
  assign in_ready  = running && ce;
  assign out_valid = v[STAGES];
  assign out_last  = l[STAGES];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      running <= 1'b0;
      v <= '0;
    end else begin
      running <= 1'b1;
      if (ce) v <= STAGES'({v, in_valid && running});
    end
  end

  always_ff @(posedge clk) begin
    if (ce) l <= STAGES'({l, in_last});
  end
endmodule
