// Small synchronous FIFO (DEPTH a power of two, >= 2) for the linear engine's output blocks.
// The writer never pushes into a full FIFO: the engine issues a tile that completes an output
// block only while it holds a credit (one per free entry), so s_valid has no ready. m_data is the
// head entry, read combinationally (distributed RAM). Latency: one cycle (push edge -> m_valid).
module linear_fifo #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 8
) (
    input  logic             clk,
    input  logic             rst_n,    // synchronous, active low
    input  logic [WIDTH-1:0] s_data,
    input  logic             s_valid,
    output logic [WIDTH-1:0] m_data,
    output logic             m_valid,
    input  logic             m_ready
);
  localparam int PW = $clog2(DEPTH);

  if (DEPTH < 2 || (1 << PW) != DEPTH) begin : g_chk
    $error("linear_fifo: DEPTH must be a power of two >= 2, got %0d", DEPTH);
  end

  logic [WIDTH-1:0] mem [DEPTH];
  logic [PW:0]      wr, rd;  // one extra bit tells full from empty

  wire pop = m_valid && m_ready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr <= '0;
      rd <= '0;
    end else begin
      if (s_valid) wr <= wr + 1'b1;
      if (pop) rd <= rd + 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (s_valid) mem[wr[PW-1:0]] <= s_data;
  end

  assign m_valid = wr != rd;
  assign m_data  = mem[rd[PW-1:0]];
endmodule
