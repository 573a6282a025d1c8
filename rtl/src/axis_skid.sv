// Two-entry AXI-Stream register slice (skid buffer): every output and s_ready come straight from
// flip-flops, so neither m_ready nor s_valid reaches the other side combinationally, and a beat
// per cycle flows through while m_ready stays high.
//
// Invariant: s_ready == !skid_valid. A beat accepted while the output slot is stalled parks in the
// skid slot; s_ready then drops for as long as the skid slot is full, so no beat is ever lost or
// overwritten. Latency: one cycle (s handshake edge -> m_valid high after that edge).
module axis_skid #(
    parameter int WIDTH = 32
) (
    input  logic             clk,
    input  logic             rst_n,    // synchronous, active low
    input  logic [WIDTH-1:0] s_data,
    input  logic             s_valid,
    output logic             s_ready,
    output logic [WIDTH-1:0] m_data,
    output logic             m_valid,
    input  logic             m_ready
);
  logic [WIDTH-1:0] skid_data;
  logic             skid_valid;

  wire s_fire    = s_valid && s_ready;
  wire out_free  = !m_valid || m_ready;  // the output slot is empty or drains this cycle

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      m_valid    <= 1'b0;
      skid_valid <= 1'b0;
    end else if (out_free) begin
      if (skid_valid) begin             // s_ready was low: drain the skid slot first
        m_valid    <= 1'b1;
        skid_valid <= 1'b0;
      end else begin
        m_valid <= s_fire;
      end
    end else if (s_fire) begin          // output stalled: park the new beat
      skid_valid <= 1'b1;
    end
  end

  // Data registers need no reset (qualified by the valid bits).
  always_ff @(posedge clk) begin
    if (out_free) begin
      if (skid_valid) m_data <= skid_data;
      else if (s_fire) m_data <= s_data;
    end else if (s_fire) begin
      skid_data <= s_data;
    end
  end

  assign s_ready = !skid_valid;
endmodule
