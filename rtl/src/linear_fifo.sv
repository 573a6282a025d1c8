// Small synchronous FIFO (DEPTH a power of two, >= 2) for the linear engine's output blocks.
// The writer never pushes into a full FIFO: the engine issues a tile that completes an output
// block only while it holds a credit (one per free entry), so s_axis_tvalid has no ready. m_axis_tdata is the
// head entry, read combinationally (distributed RAM). Latency: one cycle (push edge -> m_axis_tvalid).
`default_nettype none

module linear_fifo #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 8
) (
    input  logic             clk,
    input  logic             rst_n,    // synchronous, active low
    input  logic [WIDTH-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  localparam int PW = $clog2(DEPTH);

  if (DEPTH < 2 || (1 << PW) != DEPTH) begin : g_chk
    $error("linear_fifo: DEPTH must be a power of two >= 2, got %0d", DEPTH);
  end

  logic [WIDTH-1:0] mem [DEPTH];
  logic [PW:0]      wr, rd;  // one extra bit tells full from empty

  wire pop = m_axis_tvalid && m_axis_tready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr <= '0;
      rd <= '0;
    end else begin
      if (s_axis_tvalid) wr <= wr + 1'b1;
      if (pop) rd <= rd + 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (s_axis_tvalid) mem[wr[PW-1:0]] <= s_axis_tdata;
  end

  assign m_axis_tvalid = wr != rd;
  assign m_axis_tdata  = mem[rd[PW-1:0]];
endmodule

`default_nettype wire
