// Two-pass softmax, bit-exact to python_ref.kernels.softmax.softmax_two_pass_raw (the accelerator's
// softmax: the MoE gate's; the attention unit has its own inside):
//   m = max_i x_i;  e_i = exp(x_i - m);  s = sum_i e_i (exact);  r = 1/s;  p_i = round(e_i * r)
// Nothing depends on the order in which a row's scores arrive.
//
// Ports (Vitis stream naming, ap_ctrl_none):
//   n        row length, 8 bits: 1..255 scores (SOFTMAX_MAX_ROW; the sum format holds s <= 255, so
//            no longer row can be asked for). n is registered; a row takes the value at its first
//            beat. n = 0: no row starts (x_TREADY stays low until n >= 1).
//   x_       L scores (act, 32-bit lanes, lane i = score b*L + i of beat b) per beat, ceil(n/L)
//            beats per row; lanes past n in a row's last beat are ignored. x_TLAST is ignored (the
//            unit counts n).
//   y_       per input beat one output beat of L+3 lanes: lanes 0..L-1 = p (ap_ufixed<25,1>
//            zero-extended; lanes past n are 0), lane L = m (act), lane L+1 = s (ap_ufixed<32,8>),
//            lane L+2 = r = 1/s (ap_ufixed<32,1>); y_TLAST on the row's last beat.
// Structure: this input stage (row counting, lane masks, credits), softmax_stats (pass 1: max;
// pass 2: L exp lanes and the exact sum; N_REC bit-serial reciprocals), softmax_prob (p, output
// FIFO). x_TREADY is a register: high while the x FIFO has room for the beat and, at a row's first
// beat, n >= 1 and fewer than RMAX rows are in flight.
// Throughput: one beat per cycle; rows of R = ceil(n/L) beats need R >= (K + 3) / N_REC cycles each
// to keep the reciprocal pool busy at full rate (K + 3 = 59: one bit-serial division).
// Latency (unstalled, empty unit) and throughput: cosim/test_softmax.py measures them.
`default_nettype none

module softmax
  import model_pkg::*;
#(
    parameter int L     = SOFTMAX_LANES,         // lanes (a power of two)
    parameter int N_REC = SOFTMAX_RECIPROCALS,   // bit-serial reciprocal units
    parameter int RMAX  = SOFTMAX_ROWS_IN_FLIGHT
) (
    input  logic                    ap_clk,
    input  logic                    ap_rst_n,   // synchronous, active low
    input  logic [SOFTMAX_ROW_BITS-1:0] n,
    input  logic [L*ACT_W-1:0]      x_TDATA,
    input  logic                    x_TVALID,
    output logic                    x_TREADY,
    input  logic                    x_TLAST,    // ignored
    input  logic [L*ACT_W/8-1:0]    x_TKEEP,    // ignored
    input  logic [L*ACT_W/8-1:0]    x_TSTRB,    // ignored
    output logic [(L+3)*32-1:0]     y_TDATA,
    output logic                    y_TVALID,
    input  logic                    y_TREADY,
    output logic                    y_TLAST,
    output logic [(L+3)*4-1:0]      y_TKEEP,
    output logic [(L+3)*4-1:0]      y_TSTRB
);
  localparam int W   = ACT_W;
  localparam int NB  = (SOFTMAX_MAX_ROW + L - 1) / L;    // beats of the longest row
  localparam int CX  = 1 << $clog2(2 * NB);               // x / e FIFOs: two longest rows
  localparam int CW  = $clog2(CX + 1);
  localparam int RW  = $clog2(RMAX + 1);
  localparam int NBW = SOFTMAX_ROW_BITS + 1;

  if (SOFTMAX_MAX_ROW != (1 << SOFTMAX_ROW_BITS) - 1) begin : g_chk
    $error("softmax: the row-length port must not be able to exceed SOFTMAX_MAX_ROW");
  end

  // ---- input stage
  logic [SOFTMAX_ROW_BITS-1:0] n_r;
  logic                        running, in_row;
  logic [NBW-1:0]              rem;          // scores left in the open row
  logic [CW-1:0]               x_res;        // x FIFO entries reserved
  logic [RW-1:0]               rows;         // rows admitted, not yet finished by softmax_prob
  logic                        x_freed, row_done;
  wire                         hs = x_TVALID && x_TREADY;
  wire  [NBW-1:0]              rem_now = in_row ? rem : NBW'(n_r);
  wire                         last_now = rem_now <= NBW'(L);

  wire              in_row_next = hs ? !last_now : in_row;
  wire [CW-1:0]     x_res_next  = x_res + CW'(hs) - CW'(x_freed);
  wire [RW-1:0]     rows_next   = rows + RW'(hs && !in_row) - RW'(row_done);
  // x_TREADY's next value, running && x_res_next < CX && (in_row_next || (n != 0 && rows_next < RMAX)),
  // as its two cofactors on hs, each from flip-flops, x_freed / row_done and n only: hs (the sender's
  // x_TVALID) is the last select instead of the head of an adder and compare (3.19 ns in moe_layer)
  wire              x_ready_hs   = running && CW'(x_res + CW'(1) - CW'(x_freed)) < CW'(CX) &&
                                   (!last_now || (n != '0 && RW'(rows + RW'(!in_row) - RW'(row_done)) < RW'(RMAX)));
  wire              x_ready_idle = running && CW'(x_res - CW'(x_freed)) < CW'(CX) &&
                                   (in_row || (n != '0 && RW'(rows - RW'(row_done)) < RW'(RMAX)));

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      running  <= 1'b0;
      in_row   <= 1'b0;
      x_res    <= '0;
      rows     <= '0;
      x_TREADY <= 1'b0;
    end else begin
      running  <= 1'b1;
      in_row   <= in_row_next;
      x_res    <= x_res_next;
      rows     <= rows_next;
      x_TREADY <= hs ? x_ready_hs : x_ready_idle;
    end
    n_r <= n;
    if (hs) rem <= rem_now - NBW'(L);
`ifndef SYNTHESIS
    if (ap_rst_n && (hs ? x_ready_hs : x_ready_idle) !=
        (running && x_res_next < CW'(CX) && (in_row_next || (n != '0 && rows_next < RW'(RMAX)))))
      $error("softmax: x_TREADY's cofactors differ from its direct form");
`endif
  end

  // the admitted beat, registered
  logic             in_valid, in_first, in_last;
  logic [L*W-1:0]   in_x;
  logic [L-1:0]     in_mask;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) in_valid <= 1'b0;
    else in_valid <= hs;
    in_x     <= x_TDATA;
    in_first <= !in_row;
    in_last  <= last_now;
    for (int i = 0; i < L; i++) in_mask[i] <= NBW'(i) < rem_now;
  end

  logic               e_valid, e_ready, e_last, st_valid, st_ready;
  logic [L*25-1:0]    e_data;
  logic [W-1:0]       st_m;
  logic [31:0]        st_s, st_r;
  softmax_stats #(.L(L), .N_REC(N_REC), .RMAX(RMAX), .CX(CX)) u_stats (
      .clk(ap_clk), .rst_n(ap_rst_n), .in_valid(in_valid), .in_x(in_x), .in_mask(in_mask), .in_first(in_first),
      .in_last(in_last), .x_freed(x_freed), .e_valid(e_valid), .e_ready(e_ready), .e_data(e_data),
      .e_last(e_last), .st_valid(st_valid), .st_ready(st_ready), .st_m(st_m), .st_s(st_s), .st_r(st_r));

  softmax_prob #(.L(L)) u_prob (
      .clk(ap_clk), .rst_n(ap_rst_n), .e_valid(e_valid), .e_ready(e_ready), .e_data(e_data), .e_last(e_last),
      .st_valid(st_valid), .st_ready(st_ready), .st_m(st_m), .st_s(st_s), .st_r(st_r), .row_done(row_done),
      .y_valid(y_TVALID), .y_ready(y_TREADY), .y_data(y_TDATA), .y_last(y_TLAST));

  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TLAST, x_TKEEP, x_TSTRB};
endmodule

`default_nettype wire
