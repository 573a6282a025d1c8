// The attention unit's Q/K/V store (rtl/src/attention.sv): the layer's qkv input converted once to
// the MAC array's operand format and kept on chip in three memories.
//
// Input x_: one token row of qkv after the other (T rows of 3 D act values: Q | K | V), L act lanes
// per beat (lane 0 in the low bits), 3 D / L beats per row; TLAST is ignored (the unit counts).
// x_TREADY is a flip-flop: high from start until the layer's T * 3 D / L beats are accepted.
// Each lane is assigned to the operand format (python_ref.kernels.attention step 1): round half up
// at 2^-OPF (AP_RND), then symmetric saturation to +-(2^(OPW-1) - 1) (AP_SAT_SYM); 2 stages.
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
    parameter int OPW  = OPERAND_W,
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
    output logic [L*OPW-1:0]   q_rdata,
    input  logic [AWD-1:0]     kv_raddr,
    output logic [L*OPW-1:0]   k_rdata,
    output logic [L*OPW-1:0]   v_rdata
);
  localparam int AF = ACT_W - ACT_I;             // act fraction bits
  localparam int OF = OPERAND_W - OPERAND_I;     // operand fraction bits
  localparam int SH = AF - OF;                   // rounding shift of the conversion
  localparam int RW = ACT_W + 1 - SH;            // rounded value, before saturation
  localparam logic signed [RW-1:0] OMAX = RW'((1 << (OPW - 1)) - 1);

  if (SH < 1 || OPERAND_QUANT != 2 || OPERAND_OVERFLOW != 3 || OPW != OPERAND_W || RW <= OPW || L < 1 ||
      WPR < 1 || WPR * L != FEATURE_DIM) begin : g_chk
    $error("attn_qkv_store: needs operand = ap_fixed<W,I,AP_RND,AP_SAT_SYM> with fewer fraction bits than act, and D = WPR * L");
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
  logic [L*RW-1:0]  r1;
  logic [L*OPW-1:0] w2;
  logic             v1, v2, l1, l2;
  logic [1:0]       s1, s2;
  logic [AWD-1:0]   a1, a2;
  always_ff @(posedge clk) begin
    for (int i = 0; i < L; i++) begin
      logic signed [ACT_W:0] xs;
      logic signed [RW-1:0]  rv;
      xs = (ACT_W+1)'($signed(x_TDATA[i*ACT_W +: ACT_W])) + (ACT_W+1)'(1 << (SH - 1));
      r1[i*RW +: RW] <= RW'(xs >>> SH);
      rv = $signed(r1[i*RW +: RW]);
      w2[i*OPW +: OPW] <= rv > OMAX ? OPW'(OMAX) : rv < -OMAX ? OPW'(-OMAX) : OPW'(rv);
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

  attn_ram #(.W(L * OPW), .DEPTH(TMAX * WPR), .AW(AWD)) u_q (
      .clk(clk), .we(v2 && s2 == 2'd0), .waddr(a2), .wdata(w2), .raddr(q_raddr), .rdata(q_rdata));
  attn_ram #(.W(L * OPW), .DEPTH(TMAX * WPR), .AW(AWD)) u_k (
      .clk(clk), .we(v2 && s2 == 2'd1), .waddr(a2), .wdata(w2), .raddr(kv_raddr), .rdata(k_rdata));
  attn_ram #(.W(L * OPW), .DEPTH(TMAX * WPR), .AW(AWD)) u_v (
      .clk(clk), .we(v2 && s2 == 2'd2), .waddr(a2), .wdata(w2), .raddr(kv_raddr), .rdata(v_rdata));
endmodule

`default_nettype wire
