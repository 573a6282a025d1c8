// The attention unit's Q/K/V store (rtl/src/attention.sv): the layer's qkv input converted once to
// the MAC array's operand format and kept on chip in three memories.
//
// Input x_: the layer's qkv (T rows of 3 D act values: Q | K | V) in 3 H segments, in the order the
// array's phases consume them (attn_phase: QK0 QK1 AV0 QK2 AV1 ... AV(H-1); a QK phase needs its
// head's Q and K, an AV phase its head's V): Q0 K0 Q1 K1 V0 Q2 K2 V1 ... V(H-1)
// (attn_pkg::seg_sel / seg_head; cosim.attention_schedule.stream_qkv). A segment is the head's d
// columns of Q, K or V for tokens 0 .. T-1, token after token, DB = d / L beats per token (L act
// lanes per beat, lane 0 in the low bits); TLAST is ignored (the unit counts). So the array starts on
// QK0 once Q0 and K0 are in (2 T DB beats), not after all 3 T D / L: the rest streams in under the
// array's work. x_TREADY is a flip-flop: high from start until the layer's last beat is accepted.
// Each lane is assigned to q's format (Q) or K / V's (python_ref.kernels.attention step 1: q_format,
// kv_format): round half up at the format's LSB (AP_RND), then symmetric saturation to
// +-(2^(W-1) - 1) (AP_SAT_SYM); 2 stages, both conversions side by side (each memory takes its own).
// Q, K and V each hold TMAX * WPR words (WPR = D / L words per token) of L operands, word
// t * WPR + j = columns j * L .. j * L + L - 1 of token t (head h: j = h DB .. h DB + DB - 1).
// ph_in pulses with the write of a phase's last word (the end of a K or a V segment): the tile
// loader counts these phases (attn_loader). Read ports: q_ (the step issuer) and kv_ (the tile
// loader; K and V read at one address), each with the attn_ram latency of 2 cycles; a phase's words
// are read only after its ph_in, and the writes of later segments go to other words.
`default_nettype none

module attn_qkv_store
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,
    parameter int TMAX = NUM_TOKENS,
    parameter int H    = NUM_HEADS,
    parameter int DB   = HEAD_DIM / L,             // words per token and head
    parameter int WPR  = FEATURE_DIM / L,          // words per token and per Q / K / V
    parameter int QW   = ATTENTION_Q_W,            // q (Q memory), K and V (K, V memories)
    parameter int KVW  = ATTENTION_KV_W,
    parameter int AWD  = $clog2(TMAX * WPR)
) (
    input  logic               clk,
    input  logic               rst_n,        // synchronous, active low
    input  logic               start,        // one cycle: a layer of `tokens` rows begins
    input  logic [7:0]         t_m1,         // T - 1 (T in 1 .. TMAX; held while the layer runs)
    input  logic [L*ACT_W-1:0] x_TDATA,
    input  logic               x_TVALID,
    output logic               x_TREADY,
    output logic               ph_in,        // a phase's input is in the store (its last word written)
    input  logic [AWD-1:0]     q_raddr,
    output logic [L*QW-1:0]    q_rdata,
    input  logic [AWD-1:0]     kv_raddr,
    output logic [L*KVW-1:0]   k_rdata,
    output logic [L*KVW-1:0]   v_rdata
);
  localparam int AF  = ACT_W - ACT_I;                            // act fraction bits
  localparam int QSH = AF - (ATTENTION_Q_W - ATTENTION_Q_I);     // rounding shifts of the conversions
  localparam int KSH = AF - (ATTENTION_KV_W - ATTENTION_KV_I);
  localparam int QRW = ACT_W + 1 - QSH;                          // rounded values, before saturation
  localparam int KRW = ACT_W + 1 - KSH;
  localparam logic signed [QRW-1:0] QMAX = QRW'((1 << (QW - 1)) - 1);
  localparam logic signed [KRW-1:0] KMAX = KRW'((1 << (KVW - 1)) - 1);

  if (QSH < 1 || KSH < 1 || ATTENTION_Q_QUANT != 2 || ATTENTION_Q_OVERFLOW != 3 || ATTENTION_KV_QUANT != 2 ||
      ATTENTION_KV_OVERFLOW != 3 || QW != ATTENTION_Q_W || KVW != ATTENTION_KV_W || QRW <= QW || KRW <= KVW ||
      L < 1 || WPR < 1 || WPR * L != FEATURE_DIM || DB < 1 || DB * H != WPR) begin : g_chk
    $error("attn_qkv_store: needs q and K / V formats ap_fixed<W,I,AP_RND,AP_SAT_SYM> with fewer fraction bits than act, and D = WPR * L = H * DB * L");
  end

  // ---- input beat accounting: segment (sel: 0 Q, 1 K, 2 V; its head's first word hbase = head * DB),
  //      token t, word j of the token's DB; a = t * WPR + hbase + j, base = t * WPR + hbase
  localparam int NSEG = 3 * H;
  localparam int SW   = $clog2(NSEG + 1);
  logic [1:0]     seg_sel_rom [NSEG+1];          // segment i's sel and hbase (attn_pkg: the phase order)
  logic [AWD-1:0] seg_hbase_rom [NSEG+1];
  for (genvar i = 0; i <= NSEG; i++) begin : g_seg
    assign seg_sel_rom[i]   = 2'(attn_pkg::seg_sel(H, i));
    assign seg_hbase_rom[i] = AWD'(attn_pkg::seg_head(H, i) * DB);
  end
  logic [1:0]     sel;
  logic [SW-1:0]  nseg;          // the next segment's index (a register: the tables are read from it)
  logic           seg_final;     // the current segment is the layer's last
  logic [$clog2(DB+1)-1:0] j;
  logic [AWD-1:0] a, base;
  logic [7:0]     t;
  logic           t_last;        // t == t_m1, registered with t (no compare on the x_TREADY path)
  logic [7:0]     t_m2;          // T - 2: t_last's next value is t == t_m2 (no incrementer before the compare)
  logic           t_one;         // T == 1
  wire fire = x_TVALID && x_TREADY;
  logic j_last;                  // j == DB - 1, registered with j
  logic seg_end;                 // j_last && t_last, registered with them (one gate from x_TREADY to the
                                 // segment's enables)
  wire last_beat = seg_end && seg_final;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      x_TREADY <= 1'b0;
    end else if (start) begin
      x_TREADY <= 1'b1;
    end else if (fire && last_beat) begin
      x_TREADY <= 1'b0;
    end
    if (start) begin
      sel       <= seg_sel_rom[0];
      nseg      <= SW'(1);
      seg_final <= NSEG == 1;
      j         <= '0;
      j_last    <= DB == 1;
      t         <= '0;
      t_last    <= t_m1 == 8'd0;     // t_m1 is set before start
      seg_end   <= DB == 1 && t_m1 == 8'd0;
      a         <= seg_hbase_rom[0];
      base      <= seg_hbase_rom[0];
    end else if (fire) begin
      if (seg_end) begin              // the segment's last beat: the next segment from token 0
        sel       <= seg_sel_rom[nseg];
        nseg      <= nseg + 1'b1;
        seg_final <= nseg == SW'(NSEG - 1);
        j         <= '0;
        j_last    <= DB == 1;
        t         <= '0;
        t_last    <= t_one;
        seg_end   <= DB == 1 && t_one;
        a         <= seg_hbase_rom[nseg];
        base      <= seg_hbase_rom[nseg];
      end else if (j_last) begin      // the token's last word: the next token
        j       <= '0;
        j_last  <= DB == 1;
        t       <= t + 8'd1;
        t_last  <= t == t_m2;
        seg_end <= DB == 1 && t == t_m2;
        base    <= base + AWD'(WPR);
        a       <= base + AWD'(WPR);
      end else begin
        j       <= j + 1'b1;
        j_last  <= j == ($bits(j))'(DB - 2);   // DB >= 2 here
        seg_end <= j == ($bits(j))'(DB - 2) && t_last;
        a       <= a + 1'b1;
      end
    end
  end

  always_ff @(posedge clk) begin   // t_m1 is held from start on; used at the first token / segment end
    t_m2  <= t_m1 - 8'd1;
    t_one <= t_m1 == 8'd0;
  end

`ifndef SYNTHESIS
  logic started;                 // a layer has started since the reset (the counters are set)
  always_ff @(posedge clk) begin
    if (!rst_n) started <= 1'b0;
    else if (start) started <= 1'b1;
    if (rst_n && !start && started && seg_end != (j_last && t_last))
      $error("attn_qkv_store: seg_end differs from j_last && t_last");
  end
`endif

  // ---- conversion: stage 1 round, stage 2 saturate (+ write)
  logic [L*QRW-1:0] rq1;
  logic [L*KRW-1:0] rk1;
  logic [L*QW-1:0]  wq2;
  logic [L*KVW-1:0] wk2;
  logic             v1, v2, p1, p2;
  logic [1:0]       s1, s2;
  logic [AWD-1:0]   a1, a2;
  always_ff @(posedge clk) begin
    for (int i = 0; i < L; i++) begin
      logic signed [ACT_W:0] xq, xk;
      logic signed [QRW-1:0] rq;
      logic signed [KRW-1:0] rk;
      xq = (ACT_W+1)'($signed(x_TDATA[i*ACT_W +: ACT_W])) + (ACT_W+1)'(1 << (QSH - 1));
      xk = (ACT_W+1)'($signed(x_TDATA[i*ACT_W +: ACT_W])) + (ACT_W+1)'(1 << (KSH - 1));
      rq1[i*QRW +: QRW] <= QRW'(xq >>> QSH);
      rk1[i*KRW +: KRW] <= KRW'(xk >>> KSH);
      rq = $signed(rq1[i*QRW +: QRW]);
      rk = $signed(rk1[i*KRW +: KRW]);
      wq2[i*QW +: QW]   <= rq > QMAX ? QW'(QMAX) : rq < -QMAX ? QW'(-QMAX) : QW'(rq);
      wk2[i*KVW +: KVW] <= rk > KMAX ? KVW'(KMAX) : rk < -KMAX ? KVW'(-KMAX) : KVW'(rk);
    end
    s1 <= sel;
    a1 <= a;
    p1 <= seg_end && sel != 2'd0;    // the last beat of a K or V segment completes a phase
    s2 <= s1;
    a2 <= a1;
    p2 <= p1;
  end
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
    end else begin
      v1 <= fire;
      v2 <= v1;
    end
  end
  assign ph_in = v2 && p2;

  attn_ram #(.W(L * QW), .DEPTH(TMAX * WPR), .AW(AWD)) u_q (
      .clk(clk), .we(v2 && s2 == 2'd0), .waddr(a2), .wdata(wq2), .raddr(q_raddr), .rdata(q_rdata));
  attn_ram #(.W(L * KVW), .DEPTH(TMAX * WPR), .AW(AWD)) u_k (
      .clk(clk), .we(v2 && s2 == 2'd1), .waddr(a2), .wdata(wk2), .raddr(kv_raddr), .rdata(k_rdata));
  attn_ram #(.W(L * KVW), .DEPTH(TMAX * WPR), .AW(AWD)) u_v (
      .clk(clk), .we(v2 && s2 == 2'd2), .waddr(a2), .wdata(wk2), .raddr(kv_raddr), .rdata(v_rdata));
endmodule

`default_nettype wire
