// The state of an axis_pipe_ctrl pipeline and of the axis_skid behind it, followed from the same
// inputs, for a caller that needs the pipeline's clock enable one cycle early.
//
// The pipeline's ce (= !v[STAGES] || the slice's s_ready) is one gate after the slice's skid_valid,
// and its net drives every datapath register of the pipeline. A caller whose own wide enables
// (a FIFO pop, a datapath of a thousand bits) would start behind that net registers ce from
// `ce_next` instead: layernorm's output datapath enable (`ce_d`) and linear_out's copy of the GELU
// units' x_TREADY (`gm_rdy`). `m_valid` mirrors the slice's m_axis_tvalid (a flip-flop of low
// fan-out in place of the slice's own, or of the AND of several slices' valids in lockstep).
// Each caller checks its registered copies against the units' real signals in simulation.
`default_nettype none

module axis_pipe_mirror #(
    parameter int STAGES = 1      // the axis_pipe_ctrl's STAGES
) (
    input  logic clk,
    input  logic rst_n,           // synchronous, active low
    input  logic s_valid,         // the pipeline's s_axis_tvalid
    input  logic m_ready,         // the output slice's m_axis_tready
    output logic m_valid,         // the output slice's m_axis_tvalid
    output logic ce_next,         // the pipeline's ce in the next cycle
    output logic ce_next_hold     // ce_next when m_ready is low: ce_next = m_ready || ce_next_hold
);
  if (STAGES < 1) begin : g_chk
    $error("axis_pipe_mirror: STAGES must be >= 1, got %0d", STAGES);
  end

  logic              run;         // axis_pipe_ctrl's running
  logic              skid;        // axis_skid's skid_valid
  logic [STAGES:1]   v;           // axis_pipe_ctrl's valid bits
  wire               ce      = !v[STAGES] || !skid;
  wire               ofree   = !m_valid || m_ready;                       // the slice's output moves
  wire               skid_n  = !ofree && (skid || v[STAGES]);
  wire               valid_n = ofree ? skid || v[STAGES] : m_valid;
  wire  [STAGES:1]   v_n     = ce ? STAGES'({v, s_valid && run}) : v;
  // m_ready (often a late handshake) enters only through ofree, and ofree high empties the skid
  // slot, so ce_next = m_ready || (ce_next with ofree = !m_valid). The hold cofactor is one kept node
  // of flip-flops: m_ready is then in the last gate, however ABC maps the rest.
  (* keep *) wire ce_hold = !v_n[STAGES] || !(m_valid && (skid || v[STAGES]));
  assign ce_next_hold = ce_hold;
  assign ce_next = m_ready || ce_hold;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run     <= 1'b0;
      skid    <= 1'b0;
      v       <= '0;
      m_valid <= 1'b0;
    end else begin
      run     <= 1'b1;
      skid    <= skid_n;
      v       <= v_n;
      m_valid <= valid_n;
    end
  end
endmodule

`default_nettype wire
