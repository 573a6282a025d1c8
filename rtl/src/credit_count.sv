// The credit counter of a FIFO that is never allowed to fill: the entries reserved (an issue takes
// one, for the beat that reaches the FIFO some fixed number of cycles later) and not yet given back
// (axis_fifo's freed). room is high while fewer than DEPTH are reserved, so a pipeline that issues
// only with room never stalls: its beats always find space (softmax_stats' e FIFO, softmax_prob's
// output FIFO).
// The caller forms issue from room and its own valids, and its readies from the same terms without
// the valid of the side they go to (a gate less between issue and the slices' enables); those stay in
// the caller, each trimmed to its handshake.
`default_nettype none

module credit_count #(
    parameter int DEPTH = 8    // entries of the FIFO
) (
    input  logic clk,
    input  logic rst_n,        // synchronous, active low
    input  logic issue,        // an entry reserved this cycle (only with room)
    input  logic freed,        // an entry given back this cycle
    output logic room          // fewer than DEPTH entries reserved
);
  localparam int CW = $clog2(DEPTH + 1);

  if (DEPTH < 1) begin : g_chk
    $error("credit_count: DEPTH must be >= 1");
  end

  logic [CW-1:0] reserved;
  assign room = reserved < CW'(DEPTH);

  always_ff @(posedge clk) begin
    if (!rst_n) reserved <= '0;
    else reserved <= reserved + CW'(issue) - CW'(freed);
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && issue && !room) $error("credit_count: an issue without room");
    if (rst_n && freed && reserved == '0) $error("credit_count: an entry freed that was not reserved");
  end
`endif
endmodule

`default_nettype wire
