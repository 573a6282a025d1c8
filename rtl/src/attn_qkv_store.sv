// The attention unit's Q/K/V store (rtl/src/attention.sv): the layer's qkv input converted once to
// the MAC array's operand format and kept on chip in three memories.
//
// Input x_: one token row of qkv after the other (T rows of 3 D act values: Q | K | V), L act lanes
// per beat (lane 0 in the low bits), 3 D / L beats per row; TLAST is ignored (the unit counts).
// x_TREADY is a flip-flop: high from start until the layer's T * 3 D / L beats are accepted.
// Each lane is assigned to q's format (Q) or K / V's (python_ref.kernels.attention step 1: q_format,
// kv_format; the shipped configs: both formats.operand): round half up at the format's LSB (AP_RND),
// then symmetric saturation to +-(2^(W-1) - 1) (AP_SAT_SYM); 2 stages, both conversions side by side
// (each memory takes its own).
// Q, K and V each hold TMAX * WPR words (WPR = D / L words per token) of L operands, word
// t * WPR + j = columns j * L .. j * L + L - 1 of token t. loaded rises once every word is written.
// Read ports: q_ (the step issuer) and kv_ (the tile loader; K and V read at one address), each
// with the attn_ram latency of 2 cycles.
`default_nettype none

module attn_qkv_store
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,
    parameter int TMAX = NUM_TOKENS,
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
    output logic               loaded,
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
      L < 1 || WPR < 1 || WPR * L != FEATURE_DIM) begin : g_chk
    $error("attn_qkv_store: needs q and K / V formats ap_fixed<W,I,AP_RND,AP_SAT_SYM> with fewer fraction bits than act, and D = WPR * L");
  end

  // ---- input beat accounting: sel (Q, K, V), j (word in the segment), a = t * WPR + j
  logic [1:0]     sel;
  logic [$clog2(WPR+1)-1:0] j;
  logic [AWD-1:0] a, base;
  logic [7:0]     t;
  logic           t_last;        // t == t_m1, registered with t (no compare on the x_TREADY path)
  logic [7:0]     t_m2;          // T - 2: t_last's next value is t == t_m2 (no incrementer before the compare)
  wire fire = x_TVALID && x_TREADY;
  logic j_last;                  // j == WPR - 1, registered with j (no compare on the x_TREADY path)
  logic row_end;                 // j_last && sel == 2, registered with j and sel (one gate from x_TREADY to the
                                 // row's enables)
  wire last_beat = row_end && t_last;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      x_TREADY <= 1'b0;
    end else if (start) begin
      x_TREADY <= 1'b1;
    end else if (fire && last_beat) begin
      x_TREADY <= 1'b0;
    end
    if (start) begin
      sel  <= '0;
      j    <= '0;
      j_last <= WPR == 1;
      row_end <= 1'b0;               // sel = 0
      a    <= '0;
      base <= '0;
      t    <= '0;
      t_last <= t_m1 == 8'd0;        // t_m1 is set before start
    end else if (fire) begin
      if (row_end) begin                // j_last && sel == 2: the row's last beat
        j <= '0;
        j_last <= WPR == 1;
        sel  <= '0;
        row_end <= 1'b0;
        base <= base + AWD'(WPR);
        a    <= base + AWD'(WPR);
        t    <= t + 8'd1;
        t_last <= t == t_m2;
      end else if (j_last) begin
        j <= '0;
        j_last <= WPR == 1;
        sel <= sel + 2'd1;
        row_end <= WPR == 1 && sel == 2'd1;
        a   <= base;
      end else begin
        j <= j + 1'b1;
        j_last <= j == ($bits(j))'(WPR - 2);   // WPR >= 2 here
        row_end <= j == ($bits(j))'(WPR - 2) && sel == 2'd2;
        a <= a + 1'b1;
      end
    end
  end

  always_ff @(posedge clk) t_m2 <= t_m1 - 8'd1;   // t_m1 is held from start on; used at the first row end

`ifndef SYNTHESIS
  logic started;                 // a layer has started since the reset (the counters are set)
  always_ff @(posedge clk) begin
    if (!rst_n) started <= 1'b0;
    else if (start) started <= 1'b1;
    if (rst_n && !start && started && row_end != (j_last && sel == 2'd2))
      $error("attn_qkv_store: row_end differs from j_last && sel == 2");
  end
`endif

  // ---- conversion: stage 1 round, stage 2 saturate (+ write)
  logic [L*QRW-1:0] rq1;
  logic [L*KRW-1:0] rk1;
  logic [L*QW-1:0]  wq2;
  logic [L*KVW-1:0] wk2;
  logic             v1, v2, l1, l2;
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
    l1 <= last_beat;
    s2 <= s1;
    a2 <= a1;
    l2 <= l1;
  end
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
      loaded <= 1'b0;
    end else begin
      v1 <= fire;
      v2 <= v1;
      if (v2 && l2) loaded <= 1'b1;
    end
  end

  attn_ram #(.W(L * QW), .DEPTH(TMAX * WPR), .AW(AWD)) u_q (
      .clk(clk), .we(v2 && s2 == 2'd0), .waddr(a2), .wdata(wq2), .raddr(q_raddr), .rdata(q_rdata));
  attn_ram #(.W(L * KVW), .DEPTH(TMAX * WPR), .AW(AWD)) u_k (
      .clk(clk), .we(v2 && s2 == 2'd1), .waddr(a2), .wdata(wk2), .raddr(kv_raddr), .rdata(k_rdata));
  attn_ram #(.W(L * KVW), .DEPTH(TMAX * WPR), .AW(AWD)) u_v (
      .clk(clk), .we(v2 && s2 == 2'd2), .waddr(a2), .wdata(wk2), .raddr(kv_raddr), .rdata(v_rdata));
endmodule

`default_nettype wire
