// The exp pass of the attention unit (rtl/src/attention.sv): python_ref.kernels.attention step 4b-4d
// (softmax_two_pass_stats_raw on the score format), one row after the other, head-major:
//   e[r][j] = exp(s[r][j] - m[r])  (EL exp_core lanes, the exact 33-bit difference, F = F_score),
//   sigma[r] = sum_j e[r][j]       (exact: an adder tree over the lanes and a row accumulator),
//   r[r] = reciprocal(sigma[r])    (RU bit-serial reciprocal units, round robin).
// Keys >= T are excluded (their e is written as 0 and not summed).
//
// A row of head h starts once the score stage's max_rows > h T + r (its maximum is final) and a
// reciprocal unit is reserved for it (RU credits, returned when a result is collected; results are
// collected in row order, so rows_ready counts rows whose e and r are both written). Per row: one
// chunk of EL scores per cycle: key block kb = 0 .. KB-1, lane group grp = 0 .. L/EL - 1, only
// ceil(rem / EL) groups of the last block (rem = T - (KB - 1) L keys).
//
// Buffers (two heads in flight, par = h mod 2): the e buffer, word par * TMAX * KBMAX + r KBMAX + kb
// of L EXP_FORMAT values in L / EL banks (one lane group each; read as a whole word by the step
// issuer), and the reciprocal buffer {par, r}.
//
// Pipeline from a chunk's issue cycle c: score / max read addresses (c+1), data (c+3), s - m
// registered (c+4) = exp_core input, e (c+4+EXP_LAT), masked e (c+5+EXP_LAT: e buffer write and sum
// tree input), tree root (c+5+EXP_LAT+LGE), row sum (c+6+EXP_LAT+LGE) -> reciprocal unit.
// EXP_LAT must equal exp_core's latency (exp_core_pkg::EXP_CORE_LATENCY, rtl/src/exp_core.sv).
`default_nettype none

module attn_exp
  import model_pkg::*;
#(
    parameter int L       = LINEAR_IN,
    parameter int TMAX    = NUM_TOKENS,
    parameter int H       = NUM_HEADS,
    parameter int KBMAX   = (TMAX + L - 1) / L,
    parameter int EL      = attn_pkg::default_el(L),     // exp lanes (attention_core's default)
    parameter int RU      = attn_pkg::default_ru(L),     // reciprocal units
    parameter int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY,  // exp_core: y is x of EXP_LAT edges earlier
    parameter int SAW     = $clog2(2 * TMAX * KBMAX),
    parameter int GW      = $clog2(H * TMAX + 1)
) (
    input  logic                 clk,
    input  logic                 rst_n,        // synchronous, active low
    input  logic                 start,
    input  logic [7:0]           tokens,       // T
    input  logic [7:0]           t_m1,         // T - 1
    input  logic [3:0]           kb_m1,        // KB - 1
    input  logic [L-1:0]         mask_last,    // lanes of the last key block that are keys
    input  logic [GW-1:0]        max_rows_n,   // the score stage's max_rows, next cycle's value
    output logic [SAW-1:0]       s_raddr,
    input  logic [L*SCORE_W-1:0] s_rdata,
    output logic [8:0]           m_raddr,
    input  logic [SCORE_W-1:0]   m_rdata,
    output logic [GW-1:0]        rows_ready,
    output logic [GW-1:0]        rows_ready_n, // rows_ready's next value (rows_ready + rw_v), registered
    input  logic [SAW-1:0]       e_raddr,
    output logic [L*25-1:0]      e_rdata,
    input  logic [8:0]           r_raddr,
    output logic [31:0]          r_rdata
);
  localparam int SW  = SCORE_W;
  localparam int SF  = SCORE_W - SCORE_I;
  localparam int EW  = 25;                           // EXP_FORMAT ap_ufixed<25,1>
  localparam int NG  = L / EL;                       // lane groups per word
  localparam int LGE = $clog2(EL);
  localparam int GRW = NG > 1 ? $clog2(NG) : 1;
  localparam int SUMW = 32;                          // SUM_FORMAT ap_ufixed<32,8>
  localparam int TD  = EXP_LAT + 6 + LGE;            // tag stages
  localparam int RUW = RU > 1 ? $clog2(RU) : 1;

  if (EL < 1 || (1 << LGE) != EL || L % EL != 0 || RU < 1 || EXP_OUT_FRAC != 24 || RECIP_SOFTMAX_WI != SUMW ||
      RECIP_SOFTMAX_WO != 32 || SF > EXP_MAX_FRAC_IN || TMAX > 255) begin : g_chk
    $error("attn_exp: EL must be a power of two dividing L; formats as python_ref.kernels.softmax");
  end

  // ---- row / chunk walk
  logic           active;           // the current row has started
  logic [GW-1:0]  g;                // global row (head-major)
  logic [7:0]     r;
  logic           par;
  logic [3:0]     kb;
  logic [GRW-1:0] grp;
  logic [SAW-1:0] srow;             // r * KBMAX
  // free reciprocal units (credits, 0..RU) as a thermometer code, cr_th[k] = credits > k: "credits != 0"
  // and "!= 1" are one or two of its bits, and a step moves it by one place, so neither row_ok nor the
  // code has an adder behind collect (a counter's increment and compare there was 3.16 ns on edge_moe)
  logic [RU-1:0]  cr_th;
  wire            cr_not1 = !cr_th[0] || (RU > 1 && cr_th[RU > 1 ? 1 : 0]);   // credits != 1
  // No "every row issued" flag: at g = H T, mr_ok (max_rows > g) is low, as the score stage's max_rows
  // counts this layer's rows only (<= H T; a simulation assertion). A separate flag from g == H T put
  // start (its reset) ahead of row_ok: 5 LUT, 3.33 ns in linear_attention on edge_moe.
  logic [GW-1:0]  g1;               // g + 1
  logic           mr_ok;            // max_rows > g, registered from the next values: no compare on the walk
  logic           lkb;              // kb == kb_m1, registered with kb (kb_m1 is set before start)

  wire [GRW-1:0] grp_lb   = GRW'((t_m1 & 8'(L - 1)) >> LGE);   // the last block's last group (t_m1 held from start on)
  wire [GRW-1:0] grp_last = lkb ? grp_lb : GRW'(NG - 1);
  logic          gend;              // grp == grp_last, registered with grp and lkb (no compare before c_last)
  logic          r_last;            // r == t_m1, registered with r
  logic [7:0]    t_m2;              // T - 2: r_last's next value is r == t_m2 (no incrementer before the compare)
  logic          tz_r;              // t_m1 == 0, registered (t_m1 is held from start on)
  // r_last's value at a row end, a kept node of flip-flops: the walk's go and c_last then select it in
  // the last gate. (Formed inside the start / go / c_last branches, ABC chained the start input through
  // 6 LUT into r_last: 3.15 ns in attn_exp alone on edge_moe.)
  (* keep *) wire r_last_end = r_last ? tz_r : r == t_m2;
  logic [3:0]    kb_m3;             // KB - 3 (mod 16): lkb_pre's next value at a block end is kb == kb_m3
  logic          lkb_pre;           // kb + 1 == kb_m1 (the next block is the last), registered with kb
  logic          cred_ok;           // credits != 0, registered from credits' next value
  logic          mr_ok_n, cred_ok_n;   // next values
  wire           mr_gt0 = max_rows_n > g;
  wire           mr_gt1 = max_rows_n > g1;
  logic          row_ok;            // mr_ok && cred_ok, registered from their next values: the walk's
                                    // enables are one gate of two flip-flops (and lkb, gend for the row end)
  wire           row_go   = !active && row_ok;
  wire           go       = active || row_ok;   // == active || row_go
  logic          c_last;            // lkb && gend (the row's last chunk), registered with them
  wire           one_chunk = kb_m1 == 4'd0 && grp_lb == '0;   // a row of one chunk (T <= EL)
  // the same layer constants as registers, for the walk after start (t_m1 and kb_m1 are held from start
  // on; the start branch itself uses the wires)
  logic          kz_r, ko_r, lb0_r, oc_r;  // kb_m1 == 0, kb_m1 == 1, grp_lb == 0, one_chunk
  wire           collect;
  // row_ok's and cr_th's next values for collect = 1 / 0 (see their update), each its own node
  (* keep *) wire rok_base = (active ? (c_last ? mr_gt1 : mr_gt0) : (row_ok && c_last ? mr_gt1 : mr_gt0));
  (* keep *) wire rok_c1 = rok_base;
  (* keep *) wire rok_c0 = rok_base && (active ? cr_th[0] : (row_ok ? cr_not1 : cr_th[0]));
  (* keep *) wire [RU-1:0] th_c1 = row_go ? cr_th : RU'({cr_th, 1'b1});
  (* keep *) wire [RU-1:0] th_c0 = row_go ? cr_th >> 1 : cr_th;

  always_ff @(posedge clk) begin
    if (start) begin
      active   <= 1'b0;
      g        <= '0;
      g1       <= GW'(1);
      r        <= '0;
      par      <= 1'b0;
      kb       <= '0;
      lkb      <= kb_m1 == 4'd0;
      lkb_pre  <= kb_m1 == 4'd1;
      grp      <= '0;
      gend     <= kb_m1 == 4'd0 ? grp_lb == '0 : NG == 1;
      c_last   <= one_chunk;
      r_last   <= t_m1 == 8'd0;
      srow     <= '0;
    end else if (go) begin
      active <= !c_last;
      if (c_last) begin
        kb   <= '0;
        lkb  <= kz_r;
        lkb_pre <= ko_r;
        grp  <= '0;
        gend <= kz_r ? lb0_r : NG == 1;
        c_last <= oc_r;
        g    <= g1;
        g1   <= g1 + 1'b1;
        r_last <= r_last_end;           // r == t_m2 is (r + 1 == t_m1) mod 256
        if (r_last) begin
          r      <= '0;
          par    <= !par;
          srow   <= '0;
        end else begin
          r      <= r + 8'd1;
          srow   <= srow + SAW'(KBMAX);
        end
      end else if (gend) begin
        grp  <= '0;
        kb   <= kb + 4'd1;
        lkb  <= lkb_pre;
        lkb_pre <= kb == kb_m3;         // == (kb + 2 == kb_m1) mod 16
        gend <= lkb_pre ? lb0_r : NG == 1;
        c_last <= lkb_pre && lb0_r;
      end else begin
        grp  <= grp + 1'b1;
        gend <= grp + 1'b1 == grp_last;
        c_last <= lkb && grp + 1'b1 == grp_last;
      end
    end
    // the walk is idle from the reset to the first start: active, not only row_ok, must be low then (a
    // random active after power-up walked phantom rows into the reciprocal units, whose results then
    // took credits that were never given: tiny's backbone, Verilator seed 9)
    if (!rst_n) active <= 1'b0;
    t_m2  <= t_m1 - 8'd1;              // t_m1 / kb_m1 are held from start on; used at the first row / block end
    kb_m3 <= kb_m1 - 4'd2;
    kz_r  <= kb_m1 == 4'd0;
    tz_r  <= t_m1 == 8'd0;
    ko_r  <= kb_m1 == 4'd1;
    lb0_r <= grp_lb == '0;
    oc_r  <= one_chunk;
    mr_ok    <= mr_ok_n;
    cred_ok  <= cred_ok_n;
    // row_ok's next value (= mr_ok_n && cred_ok_n), both cases of active formed apart and
    // selected last: with active, go = 1 and row_go = 0; without, go = row_go = row_ok
    // (both next values formed for either value of collect, selected by it last: collect is an RU-way
    // select of the reciprocal units' valid, 2 LUT with 8 units; behind it one more LUT, not the credit
    // and row terms: attn_exp's cptr -> cr_th / row_ok was 6 LUT, 3.68 ns, in attention on edge_moe)
    if (!rst_n || start) row_ok <= 1'b0;
    else row_ok <= collect ? rok_c1 : rok_c0;
    // credits - row_go + collect: one place down, up or none
    if (!rst_n || start) cr_th <= '1;
    else cr_th <= collect ? th_c1 : th_c0;
  end
  always_comb begin
    if (!rst_n || start) begin
      mr_ok_n    = 1'b0;
      cred_ok_n  = 1'b1;               // RU >= 1
    end else begin
      mr_ok_n    = go && c_last ? mr_gt1 : mr_gt0;   // compares before the select
      cred_ok_n  = collect || (row_go ? cr_not1 : cr_th[0]);   // credits - row_go + collect != 0
    end
  end

`ifndef SYNTHESIS
  logic started;                       // a layer has started since the reset (the walk's registers are set)
  int   credits_ref;                   // the credits as a counter, against the code
  logic [GW-1:0] g_end;                // H T
  always_ff @(posedge clk) begin
    if (start) g_end <= GW'(tokens) * GW'(H);
    if (rst_n && !start && started && max_rows_n > g_end)
      $error("attn_exp: the score stage's max_rows %0d exceeds the layer's H T = %0d rows", max_rows_n, g_end);
    if (rst_n && !start && row_go && g == g_end) $error("attn_exp: a row past the layer's last started");
    if (rst_n && row_ok != (mr_ok && cred_ok)) $error("attn_exp: row_ok differs from mr_ok && cred_ok");
    if (rst_n && !start && (cr_th != RU'((1 << credits_ref) - 1) || credits_ref > RU))
      $error("attn_exp: the credit code %b is not %0d free reciprocal units", cr_th, credits_ref);
    if (!rst_n || start) credits_ref <= RU;
    else credits_ref <= credits_ref - int'(row_go) + int'(collect);
    if (rst_n && !start && started && (gend != (grp == grp_last) || r_last != (r == t_m1) || c_last != (lkb && gend) ||
                                  lkb_pre != (kb + 4'd1 == kb_m1)))
      $error("attn_exp: gend / r_last / c_last / lkb_pre differ from grp == grp_last / r == t_m1 / lkb && gend / kb + 1 == kb_m1");
    if (!rst_n) started <= 1'b0;
    else if (start) started <= 1'b1;
  end
`endif

  // ---- issue: read addresses; tags {valid, first, last, last kb, grp, par, r, buffer address}
  localparam int TW = 1 + 1 + 1 + 1 + GRW + 1 + 8 + SAW;
  logic [TW-1:0] tg [TD];
  wire  [SAW-1:0] addr_now = (par ? SAW'(TMAX * KBMAX) : '0) + srow + SAW'(kb);
  always_ff @(posedge clk) begin
    s_raddr <= addr_now;
    m_raddr <= {par, r};
    if (!rst_n || start) tg[0] <= '0;
    else tg[0] <= {go, row_go, c_last, kb == kb_m1, grp, par, r, addr_now};
    for (int s = 1; s < TD; s++) begin
      if (!rst_n || start) tg[s] <= '0;
      else tg[s] <= tg[s-1];
    end
  end
  // tag fields: bit offsets
  localparam int T_V = TW - 1, T_F = TW - 2, T_L = TW - 3, T_LKB = TW - 4, T_GRP = SAW + 9;

  // ---- c+4: x = s - m for the lane group (tg[2] is the tag of cycle c+3)
  logic signed [SW:0] x [EL];
  logic [EL-1:0]      xm;
  always_ff @(posedge clk) begin
    for (int k = 0; k < EL; k++) begin
      int lane;
      lane = int'(tg[2][T_GRP +: GRW]) * EL + k;
      x[k]  <= (SW+1)'($signed(s_rdata[lane*SW +: SW])) - (SW+1)'($signed(m_rdata));
      xm[k] <= !tg[2][T_LKB] || mask_last[lane];
    end
  end

  // ---- exp lanes: y valid in cycle c+4+EXP_LAT, with tg[2+EXP_LAT]
  logic [EW-1:0] y [EL];
  for (genvar k = 0; k < EL; k++) begin : g_lane
    exp_core #(.IW(SW + 1), .F(SF)) u_exp (.clk(clk), .ce(1'b1), .x(x[k]), .y(y[k]));
  end
  logic [EL-1:0] ym [EXP_LAT+1];      // the lane mask rides along: ym[EXP_LAT] pairs with y
  always_comb ym[0] = xm;
  for (genvar s = 1; s <= EXP_LAT; s++) begin : g_ym
    always_ff @(posedge clk) ym[s] <= ym[s-1];
  end

  // ---- c+5+EXP_LAT: masked e; e buffer write; sum tree
  localparam int TE = 4 + EXP_LAT;    // tag index of cycle c+5+EXP_LAT (tg[j] is valid in cycle c+1+j)
  logic [EW-1:0] em [EL];
  always_ff @(posedge clk) begin
    for (int k = 0; k < EL; k++) em[k] <= ym[EXP_LAT][k] ? y[k] : '0;
  end
  wire [TW-1:0] te = tg[TE];
  logic [EL*EW-1:0] em_flat;
  for (genvar k = 0; k < EL; k++) begin : g_em
    assign em_flat[k*EW +: EW] = em[k];
  end
  for (genvar b = 0; b < NG; b++) begin : g_ebuf
    attn_ram #(.W(EL * EW), .DEPTH(2 * TMAX * KBMAX), .AW(SAW)) u_e (
        .clk(clk), .we(te[T_V] && te[T_GRP +: GRW] == GRW'(b)), .waddr(te[SAW-1:0]), .wdata(em_flat), .raddr(e_raddr),
        .rdata(e_rdata[b*EL*EW +: EL*EW]));
  end

  logic [SUMW-1:0] tr [LGE+1][EL];
  always_comb begin
    for (int k = 0; k < EL; k++) tr[0][k] = SUMW'(em[k]);
  end
  for (genvar lv = 1; lv <= LGE; lv++) begin : g_tree
    always_ff @(posedge clk) begin
      for (int k = 0; k < EL; k++) tr[lv][k] <= k < (EL >> lv) ? tr[lv-1][2*k] + tr[lv-1][2*k+1] : '0;
    end
  end

  // ---- row accumulator (tree root in cycle c+5+EXP_LAT+LGE, tag tg[TE+LGE])
  wire [TW-1:0]    ts = tg[TE + LGE];
  logic [SUMW-1:0] acc, sig;
  logic            sig_v;
  always_ff @(posedge clk) begin
    if (ts[T_V]) acc <= (ts[T_F] ? '0 : acc) + tr[LGE][0];
    sig <= (ts[T_F] ? '0 : acc) + tr[LGE][0];
    if (!rst_n || start) sig_v <= 1'b0;
    else sig_v <= ts[T_V] && ts[T_L];
  end

  // ---- reciprocal units: dispatch round robin, collect in the same order
  logic [RUW-1:0]  dptr;
  logic [RU-1:0]   csel;             // the unit collected next, one-hot (round robin, dispatch order)
  logic [RU-1:0]   xv, xr, yv, yr;
  logic [31:0]     xd [RU];
  logic [31:0]     yd [RU];
  for (genvar u = 0; u < RU; u++) begin : g_recip
    logic [31:0] ydata;
    logic [3:0]  ykeep, ystrb;
    logic        ylast, yuser;
    reciprocal #(.WI(SUMW), .K(RECIP_SOFTMAX_K), .WO(32), .LANE_W(32), .UW(1)) u_recip (
        .ap_clk(clk), .ap_rst_n(rst_n && !start), .x_TDATA(xd[u]), .x_TVALID(xv[u]), .x_TREADY(xr[u]),
        .x_TLAST(1'b0), .x_TUSER(1'b0), .x_TKEEP(4'hf), .x_TSTRB(4'hf), .y_TDATA(ydata), .y_TVALID(yv[u]),
        .y_TREADY(yr[u]), .y_TLAST(ylast), .y_TUSER(yuser), .y_TKEEP(ykeep), .y_TSTRB(ystrb));
    assign yd[u] = ydata;
    wire unused_y = &{1'b0, ykeep, ystrb, ylast, yuser};
    always_ff @(posedge clk) begin
      if (!rst_n || start) xv[u] <= 1'b0;
      else if (sig_v && dptr == RUW'(u)) xv[u] <= 1'b1;
      else if (xr[u]) xv[u] <= 1'b0;
      if (sig_v && dptr == RUW'(u)) xd[u] <= sig;
    end
    assign yr[u] = csel[u];
  end
  (* keep *) wire collect_w = |(yv & csel);
  assign collect = collect_w;
  logic [31:0] yd_sel;              // the collected unit's result (one-hot select)
  always_comb begin
    yd_sel = '0;
    for (int u = 0; u < RU; u++) yd_sel |= csel[u] ? yd[u] : '0;
  end

  logic          rw_v;
  logic [8:0]    rw_a;
  logic [31:0]   rw_d;
  logic [7:0]    cr;
  logic          cpar;
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      dptr       <= '0;
      csel       <= RU'(1);
      cr         <= '0;
      cpar       <= 1'b0;
      rw_v       <= 1'b0;
      rows_ready <= '0;
      rows_ready_n <= '0;
    end else begin
      if (collect) rows_ready_n <= rows_ready_n + 1'b1;
      if (sig_v) dptr <= dptr == RUW'(RU - 1) ? '0 : dptr + 1'b1;
      rw_v <= collect;
      if (collect) begin
        csel <= RU'((csel << 1) | (csel >> (RU - 1)));   // rotate left
        if (cr == t_m1) begin
          cr   <= '0;
          cpar <= !cpar;
        end else begin
          cr <= cr + 8'd1;
        end
      end
      if (rw_v) rows_ready <= rows_ready + 1'b1;
    end
    rw_a <= {cpar, cr};
    rw_d <= yd_sel;
  end
  attn_ram #(.W(32), .DEPTH(512), .AW(9)) u_rbuf (
      .clk(clk), .we(rw_v), .waddr(rw_a), .wdata(rw_d), .raddr(r_raddr), .rdata(r_rdata));

  wire unused_tok = &{1'b0, tokens};
  wire unused_ok = &{1'b0, tg[TD-1], te, ts, tg[2]};
endmodule

`default_nettype wire
