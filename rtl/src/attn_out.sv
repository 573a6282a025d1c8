// The output streamer of the attention unit (rtl/src/attention.sv): attn_out (T x D act values,
// heads concatenated) from the output buffer as an AXI-Stream, row-major, L values per beat (WPR =
// D / L beats per row; TLAST on the layer's last beat). Row q is read once the normaliser's
// out_rows > q. Buffer reads (2-cycle latency) go into a 4-entry FIFO; a read is issued only while
// the FIFO has room for it and every read in flight, so y_TREADY low stalls nothing but this stage.
// y_TDATA / y_TVALID / y_TLAST come from the FIFO's registers (a held beat stays unchanged).
// done pulses with the handshake of the last beat.
`default_nettype none

module attn_out
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,
    parameter int TMAX = NUM_TOKENS,
    parameter int WPR  = FEATURE_DIM / L,
    parameter int AWD  = $clog2(TMAX * WPR),
    parameter int FD   = 4                      // FIFO entries
) (
    input  logic               clk,
    input  logic               rst_n,         // synchronous, active low
    input  logic               start,
    input  logic [7:0]         t_m1,          // T - 1
    input  logic [7:0]         out_rows,
    output logic [AWD-1:0]     o_raddr,
    input  logic [L*ACT_W-1:0] o_rdata,
    output logic [L*ACT_W-1:0] y_TDATA,
    output logic               y_TVALID,
    input  logic               y_TREADY,
    output logic               y_TLAST,
    output logic               done
);
  localparam int FW = $clog2(FD + 1);
  localparam int PW = $clog2(FD);

  if (FD < 4 || (1 << PW) != FD) begin : g_chk
    $error("attn_out: FD must be a power of two >= 4");
  end

  logic [7:0]     q;             // row of the next read
  logic [$clog2(WPR+1)-1:0] j;   // word in the row
  logic           rd_all;        // every word read
  logic           q_last;        // q == t_m1, registered with q (no compare on the rd_all path)
  logic [7:0]     t_m2;          // T - 2: q_last's next value is q == t_m2 (no incrementer before the compare)
  logic [FW-1:0]  used;          // FIFO entries + reads in flight
  logic [1:0]     rv, rl;        // read pipeline: valid, last
  logic [L*ACT_W-1:0] mem [FD];
  logic           lst [FD];
  logic [PW-1:0]  wp, rp;
  logic [FW-1:0]  cnt;           // FIFO entries
  wire  pop  = y_TVALID && y_TREADY;
  wire  rd   = !rd_all && out_rows > q && used != FW'(FD);
  wire  last = q_last && j == ($bits(j))'(WPR - 1);

  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      q      <= '0;
      q_last <= t_m1 == 8'd0;        // t_m1 is set before start
      j      <= '0;
      rd_all <= 1'b0;
      used   <= '0;
      rv     <= '0;
      cnt    <= '0;
      wp     <= '0;
      rp     <= '0;
      done   <= 1'b0;
      o_raddr <= '0;
    end else begin
      used <= used + FW'(rd) - FW'(pop);
      rv   <= {rv[0], rd};
      cnt  <= cnt + FW'(rv[1]) - FW'(pop);
      if (rv[1]) wp <= wp + 1'b1;
      if (pop) rp <= rp + 1'b1;
      done <= pop && y_TLAST;
      if (rd) begin
        o_raddr <= o_raddr + 1'b1;
        if (last) rd_all <= 1'b1;
        if (j == ($bits(j))'(WPR - 1)) begin
          j <= '0;
          q <= q + 8'd1;
          q_last <= q == t_m2;
        end else begin
          j <= j + 1'b1;
        end
      end
    end
    rl <= {rl[0], last};
    t_m2 <= t_m1 - 8'd1;             // t_m1 is constant from start on; used at the first row end, later
    if (rv[1]) begin
      mem[wp] <= o_rdata;
      lst[wp] <= rl[1];
    end
  end
  // o_raddr is presented in the cycle of rd; its data is valid two cycles later (with rv[1])
  assign y_TVALID = cnt != '0;
  assign y_TDATA  = mem[rp];
  assign y_TLAST  = lst[rp];
endmodule

`default_nettype wire
