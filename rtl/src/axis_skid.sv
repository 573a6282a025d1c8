// Two-entry AXI-Stream register slice (skid buffer): every output and s_axis_tready come straight from
// flip-flops, so neither m_axis_tready nor s_axis_tvalid reaches the other side combinationally, and a beat
// per cycle flows through while m_axis_tready stays high.
//
// Invariant: s_axis_tready == !skid_valid (a copy in its own flip-flop, s_ready_q). A beat accepted while the output slot is stalled parks in the
// skid slot; s_axis_tready then drops for as long as the skid slot is full, so no beat is ever lost or
// overwritten. Latency: one cycle (s handshake edge -> m_axis_tvalid high after that edge).
`default_nettype none

module axis_skid #(
    parameter int WIDTH = 32,
    // FREE_LOAD = 1: the output data register loads whenever its slot is free (from the skid slot, else
    // from s_axis_tdata whether or not it is valid), so s_axis_tvalid reaches no data enable; the output
    // data is unspecified while m_axis_tvalid is low. For a wide slice behind a sender whose valid is a
    // late signal (weight_fifo's filter in front of the engine's w_ / b_ slices in the MoE tops).
    parameter bit FREE_LOAD = 1'b0
) (
    input  logic             clk,
    input  logic             rst_n,    // synchronous, active low
    input  logic [WIDTH-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  logic [WIDTH-1:0] skid_data;
  logic             skid_valid;
  // s_axis_tready is !skid_valid in a flip-flop of its own: skid_valid also enables every skid_data
  // bit and selects every m_axis_tdata input (a fan-out of 2 x WIDTH), and the ready leaves the
  // module into the sender's handshake logic, which should not wait for that net. keep: Yosys would
  // merge the copy back into skid_valid.
  (* keep *) logic  s_ready_q;
  // m_empty_d: !m_axis_tvalid, for the data registers' enable only. The enable (the output slot
  // drains or is empty) reaches every m_axis_tdata bit; formed from the same flip-flop as the control
  // flops' next values, ABC built those on the enable's net (3.07 ns in weight_fifo's 512-bit slice,
  // 3.03 in linear's GELU slice). With its own copy the control cannot share it. (The complement:
  // a copy of m_axis_tvalid itself is merged back by Yosys, keep or not.)
  (* keep *) logic  m_empty_d;

  wire s_fire    = s_axis_tvalid && s_axis_tready;
  wire out_free  = !m_axis_tvalid || m_axis_tready;  // the output slot is empty or drains this cycle
  wire d_free    = m_empty_d || m_axis_tready;       // == out_free

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      m_axis_tvalid    <= 1'b0;
      skid_valid <= 1'b0;
      s_ready_q  <= 1'b1;
    end else if (out_free) begin
      if (skid_valid) begin             // s_axis_tready was low: drain the skid slot first
        m_axis_tvalid    <= 1'b1;
        skid_valid <= 1'b0;
        s_ready_q  <= 1'b1;
      end else begin
        m_axis_tvalid <= s_fire;
      end
    end else if (s_fire) begin          // output stalled: park the new beat
      skid_valid <= 1'b1;
      s_ready_q  <= 1'b0;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) m_empty_d <= 1'b1;
    else if (out_free) m_empty_d <= !skid_valid && !s_fire;
  end

  // Data registers need no reset (qualified by the valid bits). The skid slot follows the input while
  // it is empty (its content only counts once skid_valid is set, by the parking beat of that same
  // cycle), so its enable is a flip-flop output instead of a function of m_axis_tready.
  always_ff @(posedge clk) begin
    if (d_free) begin
      if (skid_valid) m_axis_tdata <= skid_data;
      else if (s_fire || FREE_LOAD) m_axis_tdata <= s_axis_tdata;   // FREE_LOAD: the enable is d_free alone
    end
    if (!skid_valid) skid_data <= s_axis_tdata;
  end

  assign s_axis_tready = s_ready_q;

`ifndef SYNTHESIS
  always_ff @(posedge clk)
    if (rst_n && (s_ready_q != !skid_valid || m_empty_d != !m_axis_tvalid))
      $error("axis_skid: s_ready_q / m_empty_d differ from !skid_valid / !m_axis_tvalid");
`endif
endmodule

`default_nettype wire
