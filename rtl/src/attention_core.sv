// The attention unit without its MAC array (rtl/src/attention.sv = attention_core + mac_array; the
// shared array of rtl/src/linear_attention.sv drives one mac_array from this core or linear_core):
// the ports ld_* / in_* / out_* are the mac_array driver interface (rtl/src/mac_array.sv), every
// in_* and ld_* output a register (in_c constant 0); the array's parameters LI = LO = L, AW = 27,
// BW = 18, PW = 48, ACC_W = 64, SHIFT = 10, DEPTH and UW below.
//
// Multi-head self-attention of one layer on the unified MAC array, bit-exact to
// python_ref.kernels.attention.attention_raw (every rounding and width as that docstring states):
//   q, k, v = operand(qkv);  S = q.k exact;  s = score(S 2^-g);  m = max s;  e = exp(s - m);
//   sigma = sum e exact;  r = reciprocal(sigma);  U = e.v exact;  out = act(r U)   (per head)
// Architecture (docs/attention.md, RTL section):
//   attn_qkv_store  x_ stream (Q, K, V in phase order) -> operand conversion -> Q, K, V memories
//   attn_loader     K / V tiles into the array's stationary store (two banks, next block while
//                   the current one computes)
//   attn_issue      the schedule: QK0 QK1 AV0 QK2 AV1 ... AV(H-1) (attn_phase), one array step per
//                   cycle; QK^T with K stationary (hi / lo split, q on the A port), AV with V
//                   stationary (hi / lo split, e on the A port)
//   mac_array       ONE LI x LO array (LI = LO = L), exact sums S and U on out_acc
//   attn_score      round + saturate to the score format, score buffer, row maxima
//   attn_exp        exp pass (EL exp_core lanes, exact row sums, RU reciprocal units), e and r buffers
//   attn_norm       deferred normalisation act(r U) (NL lanes of 6 DSP48E2), output buffer
//   attn_out        attn_out rows as the y_ stream
//
// Control (Vitis ap_ctrl_hs style): with ap_idle high, ap_start latches `tokens` (T, 1 .. TMAX;
// other values are not supported); ap_done (= ap_ready) pulses for one cycle two cycles after the handshake of the layer's last output beat,
// and the unit is idle again in that cycle.
// Streams (AXI-Stream, Vitis names): x_ = the layer's qkv (T rows of 3 D act values, Q | K | V) in
// the phases' order, Q0 K0 Q1 K1 V0 Q2 K2 V1 ... V(H-1), each segment a head's d columns token after
// token, L values per beat (lane 0 low; attn_qkv_store; TLAST ignored: the unit counts); y_ = attn_out,
// T rows of D act values (heads concatenated), L per beat, TLAST on the last beat. x_TREADY and
// the y_ outputs come from flip-flops; y_TREADY low stalls only the output stage.
// Cycle model: cosim/attention_schedule.py (equal to the RTL on every unstalled run).
`default_nettype none

module attention_core
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,                        // array LI = LO = L
    parameter int TMAX = NUM_TOKENS,
    parameter int EL   = attn_pkg::default_el(L),          // exp lanes
    parameter int RU   = attn_pkg::default_ru(L),          // reciprocal units
    parameter int NL   = attn_pkg::default_nl(L),          // normalisation lanes (6 DSP48E2 each)
    parameter int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY, // exp_core's latency (rtl/src/exp_core.sv)
    // the array geometry this core drives (not parameters: derived)
    localparam int H     = NUM_HEADS,
    localparam int DB    = HEAD_DIM / L,                   // dim blocks = output blocks per head
    localparam int KBMAX = (TMAX + L - 1) / L,
    localparam int NP    = attn_pkg::KV_PASSES,            // array passes per K / V value (2: hi / lo)
    localparam int DEPTH = attn_pkg::stationary_depth(DB, KBMAX),
    localparam int HALF  = DEPTH / 2,                      // stationary entries per bank
    localparam int DAW   = $clog2(DEPTH),
    localparam int HW    = H > 1 ? $clog2(H) : 1,
    localparam int UW    = attn_pkg::user_w(HW),           // step user bits (attn_issue)
    localparam int AW    = 27,
    localparam int BW    = 18,
    localparam int ACC_W = 64
) (
    input  logic               ap_clk,
    input  logic               ap_rst_n,     // synchronous, active low
    input  logic               ap_start,
    output logic               ap_done,
    output logic               ap_idle,
    output logic               ap_ready,
    input  logic [7:0]         tokens,
    input  logic [L*ACT_W-1:0] x_TDATA,
    input  logic               x_TVALID,
    output logic               x_TREADY,
    input  logic               x_TLAST,
    output logic [L*ACT_W-1:0] y_TDATA,
    output logic               y_TVALID,
    input  logic               y_TREADY,
    output logic               y_TLAST,
    // mac_array driver ports (rtl/src/mac_array.sv), registers; results back
    output logic               ld_valid,
    output logic [DAW-1:0]     ld_addr,
    output logic [L-1:0]       ld_row,
    output logic [L-1:0]       ld_col,
    output logic [L*L*BW-1:0]  ld_data,
    output logic               in_valid,
    output logic               in_first,
    output logic               in_last,
    output logic               in_shift,
    output logic [DAW-1:0]     in_addr,
    output logic [L*AW-1:0]    in_a,
    output logic [L*48-1:0]    in_c,
    output logic [UW-1:0]      in_user,
    input  logic               out_valid,
    input  logic [L*ACC_W-1:0] out_acc,
    input  logic [UW-1:0]      out_user
);
  localparam int WPR   = FEATURE_DIM / L;                  // store words per token
  localparam int AWD   = $clog2(TMAX * WPR);
  localparam int SAW   = $clog2(2 * TMAX * KBMAX);
  localparam int GW    = $clog2(H * TMAX + 1);
  localparam int QW    = ATTENTION_Q_W;                   // q in the store and on the A port
  localparam int KVW   = ATTENTION_KV_W;                  // K and V in the store
  localparam int LG    = $clog2(L);
  localparam int NCPB  = L / NL;
  localparam int BUSY_CYCLES = L;                          // a consumed bank stays busy (skewed rows)

  if (LINEAR_IN != LINEAR_OUT || L != LINEAR_IN || (1 << LG) != L || L < 4 || DB * L != HEAD_DIM ||
      TMAX > 255 || TMAX < 1 || QW > AW) begin : g_chk
    $error("attention: needs the config's square tile LI = LO = L (a power of two >= 4) dividing head_dim");
  end
  // q, K and V formats (numerics.attention_q / attention_kv, else formats.operand): converted by
  // attn_qkv_store, K and V through the array whole (NP = 1) or split hi / lo (NP = 2)
  if (QW > AW || (NP == 1 && KVW > BW) || (NP == 2 && KVW - 10 > BW - 1)) begin : g_chk_operands
    $error("attention: q (%0d bits) / K, V (%0d bits, %0d passes) do not fit the array's ports", QW, KVW, NP);
  end

  // ---- control
  logic       busy, st1, start;
  logic [7:0] t_r;
  logic [3:0] kb_m1;         // KB - 1 (KB = ceil(T / L))
  logic [7:0] t_m1;          // T - 1
  logic [L-1:0] mask_last;
  logic       out_done;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      busy    <= 1'b0;
      st1     <= 1'b0;
      start   <= 1'b0;
      ap_done <= 1'b0;
    end else begin
      st1     <= ap_start && !busy;
      start   <= st1;
      ap_done <= out_done;
      if (ap_start && !busy) busy <= 1'b1;
      else if (out_done) busy <= 1'b0;
    end
    if (ap_start && !busy) t_r <= tokens;
    if (st1) begin
      kb_m1 <= 4'((t_r - 8'd1) >> LG);
      t_m1 <= t_r - 8'd1;
      for (int o = 0; o < L; o++) mask_last[o] <= 8'(o) <= ((t_r - 8'd1) & 8'(L - 1));
    end
  end
  assign ap_idle  = !busy;
  assign ap_ready = ap_done;
  wire unused_ok = &{1'b0, x_TLAST};

  // ---- Q/K/V store
  logic               ph_in;
  logic [AWD-1:0]     q_raddr, kv_raddr;
  logic [L*QW-1:0]    q_rdata;
  logic [L*KVW-1:0]   k_rdata, v_rdata;
  attn_qkv_store #(.L(L), .TMAX(TMAX), .H(H), .DB(DB), .WPR(WPR), .QW(QW), .KVW(KVW), .AWD(AWD)) u_store (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .t_m1(t_m1), .x_TDATA(x_TDATA), .x_TVALID(x_TVALID),
      .x_TREADY(x_TREADY), .ph_in(ph_in), .q_raddr(q_raddr), .q_rdata(q_rdata), .kv_raddr(kv_raddr),
      .k_rdata(k_rdata), .v_rdata(v_rdata));

  // ---- bank state: held (claimed by a loader job, not consumed), full (loaded, not consumed),
  //      busy (consumed, the array's skewed rows still reading); free = !held && !busy, registered from
  //      their next values (the loader's can_start reads free[bank]: one flag per bank, no gate before
  //      its bank select)
  logic [1:0] full, held, bbusy, free;
  logic [1:0] held_n, bbusy_n;    // next values without reset / start (those clear both)
  logic       fill, fill_bank, consume, consume_bank, claim, claim_bank;
  logic [$clog2(BUSY_CYCLES+1)-1:0] bcnt [2];
  always_comb begin
    for (int b = 0; b < 2; b++) begin
      held_n[b]  = held[b];
      bbusy_n[b] = bbusy[b];
      if (claim && claim_bank == 1'(b)) held_n[b] = 1'b1;
      else if (consume && consume_bank == 1'(b)) held_n[b] = 1'b0;
      // bbusy[b] == (bcnt[b] != 0), registered with bcnt (no compare on the loader's can_start path)
      if (consume && consume_bank == 1'(b)) bbusy_n[b] = BUSY_CYCLES != 0;
      else if (bcnt[b] != '0) bbusy_n[b] = bcnt[b] != ($bits(bcnt[b]))'(1);
    end
  end
  always_ff @(posedge ap_clk) begin
    // start / reset on the flip-flops' reset (free: set) only, not in front of free's D
    if (!ap_rst_n || start) begin
      held  <= '0;
      bbusy <= '0;
      free  <= '1;
    end else begin
      held  <= held_n;
      bbusy <= bbusy_n;
      free  <= ~held_n & ~bbusy_n;
    end
    for (int b = 0; b < 2; b++) begin
      if (!ap_rst_n || start) begin
        full[b] <= 1'b0;
        bcnt[b] <= '0;
      end else begin
        if (fill && fill_bank == 1'(b)) full[b] <= 1'b1;
        else if (consume && consume_bank == 1'(b)) full[b] <= 1'b0;
        if (consume && consume_bank == 1'(b)) bcnt[b] <= ($bits(bcnt[b]))'(BUSY_CYCLES);
        else if (bcnt[b] != '0) bcnt[b] <= bcnt[b] - 1'b1;
      end
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && free != (~held & ~bbusy)) $error("attention_core: free differs from !held && !busy");
  end
`endif

  // ---- tile loader
  attn_loader #(.L(L), .TMAX(TMAX), .H(H), .DB(DB), .WPR(WPR), .KVW(KVW), .BW(BW), .NP(NP), .SPLIT(10), .HALF(HALF),
                .DAW(DAW), .AWD(AWD), .HW(HW)) u_loader (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .t_m1(t_m1), .kb_m1(kb_m1), .ph_in(ph_in), .free(free),
      .claim(claim), .claim_bank(claim_bank), .kv_raddr(kv_raddr), .k_rdata(k_rdata), .v_rdata(v_rdata), .fill(fill), .fill_bank(fill_bank),
      .ld_valid(ld_valid), .ld_addr(ld_addr), .ld_row(ld_row), .ld_col(ld_col), .ld_data(ld_data));

  // ---- step issuer
  logic [GW-1:0]    rows_ready, rows_ready_n;
  logic             issue_done;
  logic [SAW-1:0]   e_raddr;
  logic [L*25-1:0]  e_rdata;
  logic [8:0]       r_raddr;
  logic [31:0]      r_rdata;
  attn_issue #(.L(L), .TMAX(TMAX), .H(H), .DB(DB), .WPR(WPR), .KBMAX(KBMAX), .NCPB(NCPB), .QW(QW), .NP(NP), .EW(25),
               .AW(AW), .HALF(HALF), .DAW(DAW), .AWD(AWD), .EAW(SAW), .HW(HW), .GW(GW), .UW(UW)) u_issue (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .tokens(t_r), .t_m1(t_m1), .kb_m1(kb_m1), .mask_last(mask_last),
      .full(full), .consume(consume), .consume_bank(consume_bank), .rows_ready_n(rows_ready_n), .done(issue_done),
      .q_raddr(q_raddr), .q_rdata(q_rdata), .e_raddr(e_raddr), .e_rdata(e_rdata), .r_raddr(r_raddr),
      .r_rdata(r_rdata), .in_valid(in_valid), .in_first(in_first), .in_last(in_last), .in_shift(in_shift),
      .in_addr(in_addr), .in_a(in_a), .in_user(in_user));
  wire unused_issue = &{1'b0, issue_done};

  // ---- the MAC array (outside): A port steps from the issuer, nothing on C
  assign in_c = '0;

  // ---- score stage, exp pass
  logic [GW-1:0]        max_rows, max_rows_n;
  wire unused_cnt = &{1'b0, max_rows, rows_ready};   // the consumers use the registered next values
  logic [SAW-1:0]       s_raddr;
  logic [L*SCORE_W-1:0] s_rdata;
  logic [8:0]           m_raddr;
  logic [SCORE_W-1:0]   m_rdata;
  attn_score #(.L(L), .TMAX(TMAX), .H(H), .KBMAX(KBMAX), .ACC_W(ACC_W), .SAW(SAW), .HW(HW), .GW(GW), .UW(UW)) u_score (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .mask_last(mask_last), .acc_valid(out_valid), .acc(out_acc),
      .acc_user(out_user), .max_rows(max_rows), .max_rows_n(max_rows_n), .s_raddr(s_raddr), .s_rdata(s_rdata), .m_raddr(m_raddr),
      .m_rdata(m_rdata));
  attn_exp #(.L(L), .TMAX(TMAX), .H(H), .KBMAX(KBMAX), .EL(EL), .RU(RU), .EXP_LAT(EXP_LAT), .SAW(SAW), .GW(GW)) u_exp (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .tokens(t_r), .t_m1(t_m1), .kb_m1(kb_m1), .mask_last(mask_last),
      .max_rows_n(max_rows_n), .s_raddr(s_raddr), .s_rdata(s_rdata), .m_raddr(m_raddr), .m_rdata(m_rdata),
      .rows_ready(rows_ready), .rows_ready_n(rows_ready_n), .e_raddr(e_raddr), .e_rdata(e_rdata), .r_raddr(r_raddr), .r_rdata(r_rdata));

  // ---- AV output stage, streamer
  logic [7:0]         out_rows;
  logic               out_inc;
  logic [AWD-1:0]     o_raddr;
  logic [L*ACT_W-1:0] o_rdata;
  attn_norm #(.L(L), .NL(NL), .TMAX(TMAX), .H(H), .DB(DB), .WPR(WPR), .ACC_W(ACC_W), .AWD(AWD), .HW(HW), .UW(UW)) u_norm (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .acc_valid(out_valid), .acc(out_acc), .acc_user(out_user),
      .out_rows(out_rows), .out_inc(out_inc), .o_raddr(o_raddr), .o_rdata(o_rdata));
  attn_out #(.L(L), .TMAX(TMAX), .WPR(WPR), .AWD(AWD)) u_out (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .t_m1(t_m1), .out_rows(out_rows), .out_inc(out_inc), .o_raddr(o_raddr),
      .o_rdata(o_rdata), .y_TDATA(y_TDATA), .y_TVALID(y_TVALID), .y_TREADY(y_TREADY), .y_TLAST(y_TLAST),
      .done(out_done));
endmodule

`default_nettype wire
