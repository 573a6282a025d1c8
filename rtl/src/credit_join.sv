// The issue of a pipeline that joins the beats of a row with the row's one record (its statistics,
// its maximum) and writes into a FIFO that it never lets fill (softmax_stats' pass 2 into its e FIFO,
// softmax_prob into its output FIFO). A beat issues when both are there and the FIFO has room; the
// record is consumed with the row's last beat. The room is a credit count: the entries reserved (one
// per issue, for the beat that reaches the FIFO a fixed number of cycles later) and not yet given
// back (axis_fifo's freed), so the pipeline behind the issue never stalls.
// The readies leave out the valid of their own side (each source's output slice looks at its ready
// only with its valid high): the same handshakes, one gate less between the issue and the sources'
// enables.
`default_nettype none

module credit_join #(
    parameter int DEPTH = 8    // entries of the FIFO
) (
    input  logic clk,
    input  logic rst_n,        // synchronous, active low
    input  logic beat_valid,
    input  logic beat_last,    // the row's last beat
    output logic beat_ready,
    input  logic row_valid,    // the row's record
    output logic row_ready,
    input  logic freed,        // a FIFO entry given back this cycle
    output logic issue         // a beat (with its row's record) issues this cycle
);
  localparam int CW = $clog2(DEPTH + 1);

  if (DEPTH < 1) begin : g_chk
    $error("credit_join: DEPTH must be >= 1");
  end

  logic [CW-1:0] reserved;
  wire           room = reserved < CW'(DEPTH);
  assign issue      = beat_valid && row_valid && room;
  assign beat_ready = row_valid && room;
  assign row_ready  = beat_valid && room && beat_last;

  always_ff @(posedge clk) begin
    if (!rst_n) reserved <= '0;
    else reserved <= reserved + CW'(issue) - CW'(freed);
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && freed && reserved == '0) $error("credit_join: an entry freed that was not reserved");
  end
`endif
endmodule

`default_nettype wire
