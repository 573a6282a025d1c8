// Online-softmax statistics unit, bit-exact to python_ref.kernels.softmax.softmax_stats_raw.
//
// Input: a row's scores (activations, one per beat) in ARRIVAL order, TLAST on the row's last
// score. Output: one beat per row, lanes {r, s, m} (lane 0 = m: ap_fixed<ACT_W,ACT_I>, lane 1 =
// s: ap_ufixed<32,8>, lane 2 = r = 1/s: ap_ufixed<32,1>), TLAST high. Per score x:
//   first score of a row: m = x, s = 1
//   x > m: s = round(s * exp(m - x) / 2^24) + 1, m = x      else: s = s + exp(x - m)
// and at the row's end r = reciprocal(s) (rtl/src/reciprocal.sv, bit-serial).
//
// Schedule: the running maximum is updated in stage 1, so every score's exp argument is known one
// cycle after it arrives and the exp datapath (rtl/src/exp_core.sv, exp_core_pkg::EXP_CORE_LATENCY = 12 stages) runs at one score
// per cycle. The sum recurrence s <- round(s * e) + 1 / s + e is closed in one cycle (a 32x25
// multiply-add in the feedback loop: the unit's critical path). A finished row's (m, s) waits in
// a result register for the reciprocal; the score pipeline stalls while that register is full
// and the reciprocal busy (59 cycles per division), so rows shorter than ~59 scores cost stall
// cycles, 129-score attention rows none.
// Latency: last score's input handshake at edge N -> output handshake at edge N+72 (unstalled).
// Rows longer than 255 scores overflow s (python_ref rejects them).
`default_nettype none

module softmax_stats
  import model_pkg::*;
(
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic [ACT_W-1:0]     x_TDATA,
    input  logic                 x_TVALID,
    output logic                 x_TREADY,
    input  logic                 x_TLAST,
    input  logic [ACT_W/8-1:0]   x_TKEEP,    // ignored
    input  logic [ACT_W/8-1:0]   x_TSTRB,    // ignored
    output logic [3*32-1:0]      y_TDATA,
    output logic                 y_TVALID,
    input  logic                 y_TREADY,
    output logic                 y_TLAST,
    output logic [3*32/8-1:0]    y_TKEEP,
    output logic [3*32/8-1:0]    y_TSTRB
);
  localparam int W  = ACT_W;
  localparam int F  = ACT_W - ACT_I;
  localparam int SW = 32;                    // ap_ufixed<32,8>
  localparam int EF = 24;                    // exp and sum fraction bits
  localparam int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY;  // 12
  localparam int ST = EXP_LAT + 1;           // stage holding e: 13
  localparam logic [SW-1:0] ONE = SW'(1) << EF;

  if (W != 32 || F < 1 || F > 25) begin : g_chk
    $error("softmax_stats: needs 32-bit activations with 1..25 fraction bits (lanes are 32 bits)");
  end

  // ---- flow control
  logic running;
  logic [ST:1] v, l, first, newmax;
  logic res_v, rec_ready;
  wire  ce = !res_v || rec_ready;
  assign x_TREADY = running && ce;
  logic row_start;  // the next accepted score starts a row

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      running   <= 1'b0;
      v         <= '0;
      res_v     <= 1'b0;
      row_start <= 1'b1;
    end else begin
      running <= 1'b1;
      if (x_TVALID && x_TREADY) row_start <= x_TLAST;
      if (ce) begin
        v     <= {v[ST-1:1], x_TVALID && running};
        res_v <= v[ST] && l[ST];
      end
    end
  end

  // ---- stage 1: running maximum and the exp argument (both <= 0)
  logic signed [W-1:0] x1, m_run;
  logic                gt;
  logic signed [W:0]   d;
  assign gt = x1 > m_run;
  assign d  = first[1] ? '0 : (gt ? (W+1)'(m_run) - (W+1)'(x1) : (W+1)'(x1) - (W+1)'(m_run));

  logic signed [W-1:0] m_hist [2:ST];  // m after each score, carried to the accumulator
  always_ff @(posedge ap_clk) begin
    if (ce) begin
      x1       <= $signed(x_TDATA);
      l        <= {l[ST-1:1], x_TLAST};
      first    <= {first[ST-1:1], row_start};
      newmax   <= {newmax[ST-1:2], !first[1] && gt, 1'b0};
      if (v[1] && (first[1] || gt)) m_run <= x1;
      m_hist[2] <= (first[1] || gt) ? x1 : m_run;
      for (int k = 3; k <= ST; k++) m_hist[k] <= m_hist[k-1];
    end
  end

  logic [24:0] e;
  exp_core #(.IW(W + 1), .F(F)) u_exp (.clk(ap_clk), .ce(ce), .x(d), .y(e));

  // ---- stage ST: the sum recurrence, and the row's result register
  logic [SW-1:0]    s_run, s_new, res_s;
  logic [W-1:0]     res_m;
  logic [SW+24:0]   prod;
  logic [SW+25:0]   prod_r;
  assign prod   = s_run * (SW+25)'(e);
  assign prod_r = {1'b0, prod} + (SW+26)'(1 << (EF - 1));
  assign s_new  = first[ST] ? ONE : newmax[ST] ? SW'(prod_r >> EF) + ONE : s_run + SW'(e);

  always_ff @(posedge ap_clk) begin
    if (ce && v[ST]) s_run <= s_new;
    if (ce) begin
      res_s <= s_new;
      res_m <= m_hist[ST];
    end
  end

  // ---- reciprocal 1/s; (m, s) ride along in TUSER
  logic [SW-1:0] r;
  logic [2*32-1:0] user_out;
  logic unused_last;
  logic [3:0] rec_keep, rec_strb;
  reciprocal #(.WI(RECIP_SOFTMAX_WI), .K(RECIP_SOFTMAX_K), .WO(RECIP_SOFTMAX_WO), .LANE_W(32), .UW(64)) u_rec (
      .ap_clk  (ap_clk),
      .ap_rst_n(ap_rst_n),
      .x_TDATA (res_s),
      .x_TVALID(res_v),
      .x_TREADY(rec_ready),
      .x_TLAST (1'b1),
      .x_TUSER ({res_s, res_m}),
      .x_TKEEP ('1),
      .x_TSTRB ('1),
      .y_TDATA (r),
      .y_TVALID(y_TVALID),
      .y_TREADY(y_TREADY),
      .y_TLAST (unused_last),
      .y_TUSER (user_out),
      .y_TKEEP (rec_keep),
      .y_TSTRB (rec_strb)
  );

  assign y_TDATA = {r, user_out};
  assign y_TLAST = 1'b1;
  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, unused_last, rec_keep, rec_strb, prod_r[EF-1:0], prod_r[SW+25:SW+EF], newmax[1],
                     first[ST-1:2] != '0};
endmodule

`default_nettype wire
