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
    input  logic               out_inc,       // out_rows moves up by one at this edge (attn_norm; not with start)
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
  logic [8:0]     q1;            // q + 1
  logic           q_pre;         // q == t_m2 (q_last's next value at a row end), registered with q
  logic [7:0]     t_m3;          // T - 3: q_pre's next value is q == t_m3
  logic           t_one, t_two;  // t_m1 == 0, t_m1 == 1 (registers: the first values of q_last, q_pre)
  logic           start_d;       // start, one cycle later: q_last / q_pre are set then, from t_one / t_two
                                 // (valid from that cycle; no read can come before out_rows > 0)
  logic           j_last;        // j == WPR - 1, registered with j
  logic           avail;         // out_rows > q, registered from both next values (no compare before rd)
  logic [FW-1:0]  used;          // FIFO entries + reads in flight
  logic [1:0]     rv, rl;        // read pipeline: valid, last
  logic [L*ACT_W-1:0] mem [FD];
  logic           lst [FD];
  logic [PW-1:0]  wp, rp;
  logic [FW-1:0]  cnt;           // FIFO entries
  wire  pop  = y_TVALID && y_TREADY;
  wire  rd   = !rd_all && avail && used != FW'(FD);
  wire  last = q_last && j_last;
  wire  q_up = rd && j_last;     // the row's last word is read: q moves on
  // avail's next value: out_rows + out_inc > q + q_up, from compares of registers only (out_rows <= 255 and
  // q1 <= 256: no wrap)
  wire  gt0  = out_rows > q;                  // out_rows + i > q + i
  wire  ge0  = out_rows >= q;                 // out_rows + 1 > q
  wire  gt1  = 9'(out_rows) > q1;             // out_rows > q + 1
  wire  avail_n = q_up ? (out_inc ? gt0 : gt1) : (out_inc ? ge0 : gt0);

  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      q      <= '0;
      q1     <= 9'd1;
      j      <= '0;
      j_last <= WPR == 1;
      avail  <= 1'b0;                // out_rows and q are 0
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
      avail <= avail_n;
      if (rd) begin
        o_raddr <= o_raddr + 1'b1;
        if (last) rd_all <= 1'b1;
        if (j_last) begin
          j <= '0;
          j_last <= WPR == 1;
          q <= q + 8'd1;
          q1 <= q1 + 9'd1;
          q_last <= q_pre;
          q_pre  <= q == t_m3;            // == (q + 1 == t_m2) mod 256
        end else begin
          j <= j + 1'b1;
          j_last <= j == ($bits(j))'(WPR - 2);   // WPR >= 2 here
        end
      end
    end
    rl <= {rl[0], last};
    t_m2 <= t_m1 - 8'd1;             // t_m1 is constant from start on; used at the first row end, later
    t_m3 <= t_m1 - 8'd2;
    t_one <= t_m1 == 8'd0;
    t_two <= t_m1 == 8'd1;
    start_d <= rst_n && start;
    if (start_d) begin               // q = 0 (no read since start: avail is low)
      q_last <= t_one;
      q_pre  <= t_two;
    end
    if (rv[1]) begin
      mem[wp] <= o_rdata;
      lst[wp] <= rl[1];
    end
  end
`ifndef SYNTHESIS
  logic started;                 // a layer has started since the reset (t_m1 and the flags set from it)
  always_ff @(posedge clk) begin
    if (rst_n && !start && (avail != (out_rows > q) || j_last != (j == ($bits(j))'(WPR - 1)) || q1 != 9'(q) + 9'd1))
      $error("attn_out: avail / j_last / q1 differ from out_rows > q / j == WPR - 1 / q + 1");
    if (rst_n && !start && !start_d && started && (q_last != (q == t_m1) || q_pre != (q == t_m2)))
      $error("attn_out: q_last / q_pre differ from q == t_m1 / q == t_m2");
    if (!rst_n) started <= 1'b0;
    else if (start) started <= 1'b1;
  end
`endif

  // o_raddr is presented in the cycle of rd; its data is valid two cycles later (with rv[1])
  assign y_TVALID = cnt != '0;
  assign y_TDATA  = mem[rp];
  assign y_TLAST  = lst[rp];
endmodule

`default_nettype wire
