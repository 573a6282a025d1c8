// The score stage of the attention unit (rtl/src/attention.sv): takes the exact QK^T sums as they
// leave the MAC array (one beat = L sums S[r][kb L + o], 64-bit out_acc) and
//   * rounds and saturates them to the score format (python_ref.kernels.attention step 3):
//     s = sat(floor((S + 2^(SSH-1)) / 2^SSH)), SSH = F_q + F_kv + g - F_score (S 2^-g has F_q + F_kv
//     + g fraction bits; AP_RND = half up, AP_SAT to [-2^31, 2^31 - 1] raw);
//   * writes them to the score buffer (two heads in flight: word par * TMAX * KBMAX + r KBMAX + kb,
//     par = h mod 2, L scores per word; read by the exp pass);
//   * keeps the row maximum m[par][r] = max over the row's keys < T (step 4a): a pipelined max tree
//     over the beat (log2 L stages, keys >= T count as -2^31), then a read-modify-write of the row's
//     entry in the max buffer (the first key block writes, the later ones compare);
//   * counts the rows whose maximum is final (written by the last key block), head-major: the exp
//     pass may start row r of head h once max_rows > h T + r.
// Beats arrive at most every 2 cycles (NP DB >= 2 steps per row), a row's next beat T NP DB cycles later.
// Pipeline from the out_valid cycle v: sum + rounding constant (v+1), saturate (v+2, buffer write),
// max tree (v+3 .. v+2+LG), max read (address v+LG, data v+2+LG), compare and write (v+3+LG),
// max_rows counts at the end of v+3+LG.
`default_nettype none

module attn_score
  import model_pkg::*;
#(
    parameter int L     = LINEAR_IN,
    parameter int TMAX  = NUM_TOKENS,
    parameter int H     = NUM_HEADS,
    parameter int KBMAX = (TMAX + L - 1) / L,
    parameter int ACC_W = 64,
    parameter int SAW   = $clog2(2 * TMAX * KBMAX),
    parameter int HW    = H > 1 ? $clog2(H) : 1,
    parameter int GW    = $clog2(H * TMAX + 1),
    parameter int UW    = attn_pkg::user_w(HW)
) (
    input  logic                 clk,
    input  logic                 rst_n,       // synchronous, active low
    input  logic                 start,
    input  logic [L-1:0]         mask_last,   // lanes of the last key block that are keys
    input  logic                 acc_valid,   // the array's out_valid
    input  logic [L*ACC_W-1:0]   acc,
    input  logic [UW-1:0]        acc_user,
    output logic [GW-1:0]        max_rows,
    output logic [GW-1:0]        max_rows_n,  // max_rows' next value (max_rows + (mw_v && mw_last)), registered
    input  logic [SAW-1:0]       s_raddr,     // exp pass: score buffer
    output logic [L*SCORE_W-1:0] s_rdata,
    input  logic [8:0]           m_raddr,     // exp pass: row maxima {par, r}
    output logic [SCORE_W-1:0]   m_rdata
);
  localparam int QF  = ATTENTION_Q_W - ATTENTION_Q_I;   // q's and K's fraction bits
  localparam int KF  = ATTENTION_KV_W - ATTENTION_KV_I;
  localparam int SF  = SCORE_W - SCORE_I;
  localparam int G   = $clog2(HEAD_DIM) / 2;           // head_dim = 4^G
  localparam int SSH = QF + KF + G - SF;               // rounding shift S -> score
  localparam int SW  = SCORE_W;
  localparam int VW  = ACC_W - SSH;                    // the shifted sum
  localparam int LG  = $clog2(L);
  localparam logic signed [VW-1:0] SMAX = VW'((64'sd1 <<< (SW - 1)) - 1);
  localparam logic signed [VW-1:0] SMIN = -VW'(64'sd1 <<< (SW - 1));

  if (SSH < 1 || SCORE_QUANT != 2 || SCORE_OVERFLOW != 1 || (1 << (2 * G)) != HEAD_DIM || (1 << LG) != L ||
      LG < 2 || VW <= SW) begin : g_chk
    $error("attn_score: needs score = ap_fixed<W,I,AP_RND,AP_SAT>, head_dim = 4^g and L a power of two >= 2");
  end

  // the step tag (attn_issue, layout in attn_pkg): u.blk is the key block, u.last its row's last
  wire attn_pkg::step_tag_t u      = acc_user[attn_pkg::U_HEAD-1:0];
  wire [HW-1:0]             u_head = acc_user[attn_pkg::U_HEAD +: HW];


  // ---- v+1: sum + rounding constant; tags
  logic signed [ACC_W-1:0] sa [L];
  logic          v1, l1, p1;
  logic [7:0]    r1;
  logic [3:0]    kb1;
  logic [SAW-1:0] rk1;             // r * KBMAX
  always_ff @(posedge clk) begin
    for (int o = 0; o < L; o++) sa[o] <= $signed(acc[o*ACC_W +: ACC_W]) + (ACC_W'(1) <<< (SSH - 1));
    if (!rst_n || start) v1 <= 1'b0;
    else v1 <= acc_valid && !u.av;
    l1  <= u.last;
    p1  <= u_head[0];
    r1  <= u.row;
    rk1 <= SAW'(attn_pkg::mul_const(32'(u.row), KBMAX));
    kb1 <= u.blk;
  end

  // ---- v+2: saturate; masked copy for the maximum; buffer address
  logic [SW-1:0]        s2 [L];
  logic signed [SW-1:0] sm2 [L];
  logic                 v2, l2, p2, f2;
  logic [7:0]           r2;
  logic [SAW-1:0]       a2;
  always_ff @(posedge clk) begin
    for (int o = 0; o < L; o++) begin
      logic signed [VW-1:0] vs;
      logic [SW-1:0] sat;
      vs  = VW'(sa[o] >>> SSH);
      sat = vs > SMAX ? SW'(SMAX) : vs < SMIN ? SW'(SMIN) : SW'(vs);
      s2[o]  <= sat;
      sm2[o] <= (l1 && !mask_last[o]) ? SW'(SMIN) : $signed(sat);
    end
    if (!rst_n || start) v2 <= 1'b0;
    else v2 <= v1;
    l2 <= l1;
    p2 <= p1;
    f2 <= kb1 == 4'd0;
    r2 <= r1;
    a2 <= (p1 ? SAW'(TMAX * KBMAX) : '0) + rk1 + SAW'(kb1);
  end

  logic [L*SW-1:0] s2_flat;
  for (genvar o = 0; o < L; o++) begin : g_flat
    assign s2_flat[o*SW +: SW] = s2[o];
  end
  attn_ram #(.W(L * SW), .DEPTH(2 * TMAX * KBMAX), .AW(SAW)) u_sbuf (
      .clk(clk), .we(v2), .waddr(a2), .wdata(s2_flat), .raddr(s_raddr), .rdata(s_rdata));

  // ---- max tree: level k registered in cycle v+2+k; tags ride along (tg[k] valid in cycle v+2+k)
  logic signed [SW-1:0] lv [LG+1][L];
  logic [11:0]          tg [LG+1];     // {valid, last kb, first kb, par, r}
  always_comb begin
    for (int o = 0; o < L; o++) lv[0][o] = sm2[o];
    tg[0] = {v2, l2, f2, p2, r2};
  end
  for (genvar k = 1; k <= LG; k++) begin : g_tree
    always_ff @(posedge clk) begin
      for (int o = 0; o < (L >> k); o++)
        lv[k][o] <= lv[k-1][2*o] > lv[k-1][2*o+1] ? lv[k-1][2*o] : lv[k-1][2*o+1];
      for (int o = (L >> k); o < L; o++) lv[k][o] <= '0;
      if (!rst_n || start) tg[k] <= '0;
      else tg[k] <= tg[k-1];
    end
  end

  // ---- row maximum: read in cycle v+LG (tg[LG-2] is the tag of v+LG), data with the tree's root
  logic [SW-1:0] m_old;
  wire  [11:0]   tq = tg[LG - 2];
  wire  [11:0]   tr = tg[LG];
  logic          mw_v, mw_last;
  logic [8:0]    mw_a;
  logic [SW-1:0] mw_d;
  attn_ram #(.W(SW), .DEPTH(512), .AW(9)) u_mbuf (
      .clk(clk), .we(mw_v), .waddr(mw_a), .wdata(mw_d), .raddr({tq[8], tq[7:0]}), .rdata(m_old));
  attn_ram #(.W(SW), .DEPTH(512), .AW(9)) u_mbuf_rd (    // a copy for the exp pass's read port
      .clk(clk), .we(mw_v), .waddr(mw_a), .wdata(mw_d), .raddr(m_raddr), .rdata(m_rdata));
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      mw_v     <= 1'b0;
      max_rows <= '0;
      max_rows_n <= '0;
    end else begin
      if (tr[11] && tr[10]) max_rows_n <= max_rows_n + 1'b1;
      mw_v <= tr[11];
      if (mw_v && mw_last) max_rows <= max_rows + 1'b1;
    end
    mw_last <= tr[10];
    mw_a    <= tr[8:0];
    mw_d    <= (tr[9] || lv[LG][0] > $signed(m_old)) ? lv[LG][0] : m_old;
  end
  wire unused_ok = &{1'b0, acc_user[UW-1:attn_pkg::U_HEAD+HW], u_head[HW-1:0], tq};
endmodule

`default_nettype wire
