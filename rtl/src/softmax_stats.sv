// Two-pass softmax statistics, bit-exact to python_ref.kernels.softmax.softmax_two_pass_stats_raw:
//   m = max_i x_i (exact)    e_i = exp(x_i - m) (exp_core, ap_ufixed<25,1>)
//   s = sum_i e_i            exact, ap_ufixed<32,8> (integers: order-free; s <= n <= 255 cannot wrap)
//   r = reciprocal(s)        rtl/src/reciprocal.sv (bit-serial), ap_ufixed<32,1>
// The per-row e values (e stream) and statistics {r, s, m} (stats stream) go to softmax_prob.
//
// Input: beats admitted by the softmax top (it holds an x FIFO credit for each and a row credit for
// each row, so nothing here can overflow): L scores, a lane mask (lanes past the row's length are
// 0 and contribute neither to m nor to s) and the row's first / last flags.
//
// Pass 1 (as the beats arrive): masked lanes -> the act minimum, a max tree of log2(L) registered
// levels (rtl/src/reduce_tree.sv, as the sum tree), the running row maximum (one compare + select
// per cycle); at the row's last beat m goes to the m FIFO. The beats themselves wait in the x FIFO
// (CX beats: two rows of 255 scores).
// Pass 2 (a row once its m is known, one beat per cycle while the e FIFO has room): d = x - m
// (exact, registered), L exp_core lanes (EXP_LAT stages, never stalled: the e FIFO space is
// reserved at issue, rtl/src/credit_join.sv), mask, e to the e FIFO and to a sum tree of log2(L)
// registered levels, the row sum accumulated (one exact 32-bit add per cycle).
// Reciprocals: N_REC bit-serial units, rows dispatched round robin and collected in the same
// order; {m, s} ride in TUSER; the r FIFO (RMAX rows) holds {r, s, m} for softmax_prob.
// No multiply sits in a one-cycle loop; the two loops (running max, row sum) are one compare or
// one adder each; control comes from registers.
`default_nettype none

module softmax_stats
  import model_pkg::*;
#(
    parameter int L     = 1,    // lanes (a power of two): scores per beat, exp units
    parameter int N_REC = 1,    // reciprocal units
    parameter int RMAX  = 32,   // rows in flight (the top's row credits): depth of the row FIFOs
    parameter int CX    = 512   // beats of the x and e FIFOs (>= one row of 255 scores)
) (
    input  logic                 clk,
    input  logic                 rst_n,      // synchronous, active low
    input  logic                 in_valid,
    input  logic [L*ACT_W-1:0]   in_x,
    input  logic [L-1:0]         in_mask,
    input  logic                 in_first,
    input  logic                 in_last,
    output logic                 x_freed,    // an x FIFO entry was freed (the top's credit)
    output logic                 e_valid,
    input  logic                 e_ready,
    output logic [L*25-1:0]      e_data,
    output logic                 e_last,
    output logic                 st_valid,
    input  logic                 st_ready,
    output logic [ACT_W-1:0]     st_m,
    output logic [31:0]          st_s,
    output logic [31:0]          st_r
);
  localparam int W  = ACT_W;
  localparam int F  = ACT_W - ACT_I;
  localparam int EW = 25;                 // exp_core output: ap_ufixed<25,1>
  localparam int SW = 32;                 // ap_ufixed<32,8>
  localparam int LV = L > 1 ? $clog2(L) : 0;
  localparam int BW = EW + LV;            // sum of one beat's e values
  // exp_core's latency (rtl/src/exp_core.sv: exp_core_pkg)
  localparam int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY;
  localparam logic signed [W-1:0] MIN = {1'b1, {(W-1){1'b0}}};

  if ((1 << LV) != L || N_REC < 1 || RMAX < 2 || CX < 2 || W != 32 || F < 1 || F > 25) begin : g_chk
    $error("softmax_stats: L must be a power of two, N_REC >= 1, 32-bit activations with 1..25 fraction bits");
  end

  // ------------------------------------------------------------------------------------------
  // Pass 1: the x FIFO and the running maximum
  logic              xq_valid, xq_ready, xq_last;
  logic [L*W-1:0]    xq_x;
  logic [L-1:0]      xq_mask;
  axis_fifo #(.WIDTH(L * W + L + 1), .DEPTH(CX), .SYNC_READ(1)) u_xq (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata({in_last, in_mask, in_x}), .s_axis_tvalid(in_valid),
      .m_axis_tdata({xq_last, xq_mask, xq_x}), .m_axis_tvalid(xq_valid), .m_axis_tready(xq_ready), .freed(x_freed));

  // the max tree: masked lanes -> the act minimum (they never win)
  logic [L*W-1:0]      x_leaves;
  always_comb for (int i = 0; i < L; i++) x_leaves[i*W +: W] = in_mask[i] ? in_x[i*W +: W] : MIN;
  logic                bmax_valid, bmax_first, bmax_last;
  logic signed [W-1:0] bmax;           // the beat's maximum, its flags beside it
  reduce_tree #(.L(L), .DW(W), .OP("max")) u_maxtree (
      .clk(clk), .rst_n(rst_n), .in_valid(in_valid), .in_first(in_first), .in_last(in_last),
      .in_leaves(x_leaves), .out_valid(bmax_valid), .out_first(bmax_first), .out_last(bmax_last), .out_root(bmax));

  logic signed [W-1:0] m_run;
  wire  signed [W-1:0] m_next = (bmax_first || bmax > m_run) ? bmax : m_run;
  always_ff @(posedge clk) begin
    if (bmax_valid) m_run <= m_next;
  end

  logic           mq_valid, mq_ready, mq_freed;
  logic [W-1:0]   mq_m;
  axis_fifo #(.WIDTH(W), .DEPTH(RMAX)) u_mq (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata(m_next), .s_axis_tvalid(bmax_valid && bmax_last),
      .m_axis_tdata(mq_m), .m_axis_tvalid(mq_valid), .m_axis_tready(mq_ready), .freed(mq_freed));

  // ------------------------------------------------------------------------------------------
  // Pass 2: issue (a beat per cycle while the e FIFO has room), d = x - m, exp lanes
  logic          e_freed, p2_first, issue;
  credit_join #(.DEPTH(CX)) u_join (
      .clk(clk), .rst_n(rst_n), .beat_valid(xq_valid), .beat_last(xq_last), .beat_ready(xq_ready),
      .row_valid(mq_valid), .row_ready(mq_ready), .freed(e_freed), .issue(issue));

  always_ff @(posedge clk) begin
    if (!rst_n) p2_first <= 1'b1;
    else if (issue) p2_first <= xq_last;
  end

  // the row's m for the statistics, from the row's last issue to its sum
  logic         m2_valid, m2_freed;
  logic [W-1:0] m2_m;
  logic         s_done;      // the sum of a row is complete (pops m2)
  axis_fifo #(.WIDTH(W), .DEPTH(RMAX)) u_m2 (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata(mq_m), .s_axis_tvalid(issue && xq_last),
      .m_axis_tdata(m2_m), .m_axis_tvalid(m2_valid), .m_axis_tready(s_done), .freed(m2_freed));

  logic signed [W:0] d [L];
  logic              dv;
  logic [L-1:0]      dmask;
  logic              dfirst, dlast;
  always_ff @(posedge clk) begin
    if (!rst_n) dv <= 1'b0;
    else dv <= issue;
    dmask  <= xq_mask;
    dfirst <= p2_first;
    dlast  <= xq_last;
    for (int i = 0; i < L; i++) d[i] <= (W+1)'($signed(xq_x[i*W +: W])) - (W+1)'($signed(mq_m));
  end

  logic [EW-1:0] e [L];
  for (genvar i = 0; i < L; i++) begin : g_exp
    exp_core #(.IW(W + 1), .F(F)) u_exp (.clk(clk), .ce(1'b1), .x(d[i]), .y(e[i]));
  end

  // valid / mask / first / last alongside the exp pipeline
  logic [EXP_LAT:1] pv, pf, pl;
  logic [L-1:0]     pm [EXP_LAT:1];
  always_ff @(posedge clk) begin
    if (!rst_n) pv <= '0;
    else pv <= {pv[EXP_LAT-1:1], dv};
    pf    <= {pf[EXP_LAT-1:1], dfirst};
    pl    <= {pl[EXP_LAT-1:1], dlast};
    pm[1] <= dmask;
    for (int k = 2; k <= EXP_LAT; k++) pm[k] <= pm[k-1];
  end

  // masked e: to the e FIFO and the sum tree
  logic [EW-1:0] em [L];
  logic          ev, ef, el;
  always_ff @(posedge clk) begin
    if (!rst_n) ev <= 1'b0;
    else ev <= pv[EXP_LAT];
    ef <= pf[EXP_LAT];
    el <= pl[EXP_LAT];
    for (int i = 0; i < L; i++) em[i] <= pm[EXP_LAT][i] ? e[i] : '0;
  end

  logic [L*EW-1:0] em_flat;
  logic [L*BW-1:0] em_leaves;     // the sum tree's leaves, BW bits
  always_comb for (int i = 0; i < L; i++) begin
    em_flat[i*EW +: EW]   = em[i];
    em_leaves[i*BW +: BW] = BW'(em[i]);
  end
  axis_fifo #(.WIDTH(L * EW + 1), .DEPTH(CX), .SYNC_READ(1)) u_eq (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata({el, em_flat}), .s_axis_tvalid(ev),
      .m_axis_tdata({e_last, e_data}), .m_axis_tvalid(e_valid), .m_axis_tready(e_ready), .freed(e_freed));

  // the sum tree: one beat's e values
  logic          bsum_valid, bsum_first, bsum_last;
  logic [BW-1:0] bsum;            // the beat's sum, its flags beside it
  reduce_tree #(.L(L), .DW(BW), .OP("sum")) u_sumtree (
      .clk(clk), .rst_n(rst_n), .in_valid(ev), .in_first(ef), .in_last(el),
      .in_leaves(em_leaves), .out_valid(bsum_valid), .out_first(bsum_first), .out_last(bsum_last), .out_root(bsum));

  // the row sum: exact, s <= 255 * 2^24 < 2^32
  logic [SW-1:0] s_acc;
  wire  [SW-1:0] s_new = (bsum_first ? '0 : s_acc) + SW'(bsum);
  always_ff @(posedge clk) begin
    if (bsum_valid) s_acc <= s_new;
  end
  assign s_done = bsum_valid && bsum_last;

  // {m, s} of the finished row, registered, to the s FIFO
  logic          sreq_v;
  logic [SW-1:0] sreq_s;
  logic [W-1:0]  sreq_m;
  always_ff @(posedge clk) begin
    if (!rst_n) sreq_v <= 1'b0;
    else sreq_v <= s_done;
    sreq_s <= s_new;
    sreq_m <= m2_m;
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && s_done && !m2_valid) $error("softmax_stats: a row sum finished without its maximum");
  end
`endif

  logic          sq_valid, sq_ready, sq_freed;
  logic [SW-1:0] sq_s;
  logic [W-1:0]  sq_m;
  axis_fifo #(.WIDTH(SW + W), .DEPTH(RMAX)) u_sq (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata({sreq_m, sreq_s}), .s_axis_tvalid(sreq_v),
      .m_axis_tdata({sq_m, sq_s}), .m_axis_tvalid(sq_valid), .m_axis_tready(sq_ready), .freed(sq_freed));

  // ------------------------------------------------------------------------------------------
  // Reciprocal pool: round-robin dispatch, in-order collection. The write and read turns are one-hot
  // rings (wsel, rsel: the units' y_TVALID flip-flops are selected by an AND-OR, no decode of a
  // pointer); rp, the read turn as a number, selects the result data. The s FIFO's ready, the
  // x_TREADY of the unit whose turn it is, is a flip-flop (w_rdy) computed from next values: the
  // units holding a value are the ring from the read turn up to the write turn (a unit is busy from
  // the edge it is handed a value to the edge its result is taken, reciprocal.sv: IDLE after the y_
  // handshake), so the write turn's unit is free exactly when fewer than N_REC units are busy
  // (r_busy, with r_m1 = r_busy == N_REC - 1 registered alongside).
  localparam int NW = N_REC > 1 ? $clog2(N_REC) : 1;
  logic [NW-1:0]       rp;
  logic [N_REC-1:0]    wsel, rsel;
  logic                w_rdy;     // rx_ready[the unit wsel selects], registered
  logic [N_REC-1:0]    rx_valid, rx_ready, ry_valid, ry_ready;
  logic [31:0]         ry_r    [N_REC];
  logic [2*32-1:0]     ry_user [N_REC];
  logic [N_REC-1:0]    ry_last;
  logic [N_REC-1:0][3:0] ry_keep, ry_strb;

  assign sq_ready = w_rdy;
  always_comb for (int j = 0; j < N_REC; j++) begin
    rx_valid[j] = sq_valid && wsel[j];
    ry_ready[j] = rsel[j];         // the r FIFO holds RMAX rows: never full
  end

  for (genvar j = 0; j < N_REC; j++) begin : g_rec
    reciprocal #(.WI(RECIP_SOFTMAX_WI), .K(RECIP_SOFTMAX_K), .WO(RECIP_SOFTMAX_WO), .LANE_W(32), .UW(64)) u_rec (
        .ap_clk  (clk),
        .ap_rst_n(rst_n),
        .x_TDATA (sq_s),
        .x_TVALID(rx_valid[j]),
        .x_TREADY(rx_ready[j]),
        .x_TLAST (1'b1),
        .x_TUSER ({sq_m, sq_s}),
        .x_TKEEP ('1),
        .x_TSTRB ('1),
        .y_TDATA (ry_r[j]),
        .y_TVALID(ry_valid[j]),
        .y_TREADY(ry_ready[j]),
        .y_TLAST (ry_last[j]),
        .y_TUSER (ry_user[j]),
        .y_TKEEP (ry_keep[j]),
        .y_TSTRB (ry_strb[j])
    );
  end

  logic          cv;
  logic [31:0]   c_r;
  logic [63:0]   c_user;
  logic          rp_wrap;     // rp == N_REC - 1, registered with rp
  wire           take = |(rsel & ry_valid);
  localparam int RBW = $clog2(N_REC + 1);
  logic [RBW-1:0] r_busy;      // units holding a value
  logic           r_m1;        // r_busy == N_REC - 1
  wire            fire = sq_valid && w_rdy;
  wire            r_m2 = N_REC >= 2 && r_busy == RBW'(N_REC - 2);
  wire [RBW-1:0]  r_busy_f  = r_busy + RBW'(fire);
  wire [RBW-1:0]  r_busy_ft = r_busy_f - RBW'(1);
  wire [N_REC-1:0] wsel_r = N_REC'({wsel, wsel} >> (N_REC - 1));   // wsel rotated left by one
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      r_busy <= '0;
      w_rdy  <= 1'b1;                          // every unit leaves reset idle
      r_m1   <= N_REC == 1;
    end else begin
      r_busy <= take ? r_busy_ft : r_busy_f;   // == r_busy + fire - take, take (the widest cone) last
      // r_busy after this edge < N_REC: a result taken, or not all busy and not filling the last unit
      w_rdy  <= take || (w_rdy && !(r_m1 && sq_valid));
      // r_busy after this edge == N_REC - 1 (w_rdy low: all N_REC busy, no dispatch)
      r_m1   <= (r_m1 && fire == take) || (!w_rdy && take) || (r_m2 && fire && !take);
    end
  end
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wsel    <= N_REC'(1);
      rsel    <= N_REC'(1);
      rp      <= '0;
      rp_wrap <= N_REC == 1;
      cv      <= 1'b0;
    end else begin
      if (sq_valid && sq_ready) wsel <= wsel_r;
      if (take) begin
        rsel    <= N_REC'({rsel, rsel} >> (N_REC - 1));
        rp      <= rp_wrap ? '0 : rp + 1'b1;
        rp_wrap <= N_REC == 1 || rp == NW'(N_REC - 2);
      end
      cv <= take;
    end
    c_r    <= ry_r[rp];
    c_user <= ry_user[rp];
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && !$onehot(wsel)) $error("softmax_stats: wsel is not one-hot");
    if (rst_n && w_rdy != |(wsel & rx_ready)) $error("softmax_stats: w_rdy differs from the selected unit's x_TREADY");
    if (rst_n && 32'(r_busy) != $countones(~rx_ready)) $error("softmax_stats: r_busy differs from the units not ready");
    if (rst_n && w_rdy != (r_busy != RBW'(N_REC))) $error("softmax_stats: w_rdy differs from r_busy != N_REC");
    if (rst_n && r_m1 != (r_busy == RBW'(N_REC - 1))) $error("softmax_stats: r_m1 differs from r_busy == N_REC - 1");
    if (rst_n && rsel != N_REC'(1) << rp) $error("softmax_stats: rsel differs from 1 << rp");
    if (rst_n && rp_wrap != (rp == NW'(N_REC - 1))) $error("softmax_stats: rp_wrap differs from rp == N_REC - 1");
  end
`endif

  logic rq_freed;
  axis_fifo #(.WIDTH(32 + SW + W), .DEPTH(RMAX)) u_rq (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata({c_r, c_user}), .s_axis_tvalid(cv),
      .m_axis_tdata({st_r, st_m, st_s}), .m_axis_tvalid(st_valid), .m_axis_tready(st_ready), .freed(rq_freed));

  wire unused_ok = &{1'b0, mq_freed, m2_freed, sq_freed, rq_freed, ry_last, ry_keep, ry_strb};
endmodule

`default_nettype wire
