// exp datapath for x <= 0 (no flow control): bit-exact to python_ref.kernels.exp.exp_neg_raw.
//
//   u = max(-x, 0); u >= 32 -> 0;  t = round(u * log2(e)) (24 fraction bits) = n + j/128 + r;
//   2^-r ~ 1 - r (C1 - r C2) (Horner, 28 fraction bits, each product rounded half up);
//   y = round(T[j] * p / 2^(32 + n)), T[j] = round(2^(-j/128) * 2^28); n >= 26 -> 0.
// x > 0 saturates to 1.0. Every width and rounding: python_ref/kernels/exp.py, docs/nonlinear.md.
//
// x: signed, F fraction bits, IW bits (the softmax feeds the exact difference of two activations,
// ap_fixed<ACT_W+1, ACT_I+1>). y: ap_ufixed<25,1>. All 9 stages advance together on ce; y is the
// registered result of the x presented LATENCY = 9 enabled clock edges earlier.
//   S1 register x            S2 u = max(-x, 0), zero if u >= 32
//   S3 u * LOG2E (27x32)     S4 t = round(prod / 2^(F+7)); n, j, r
//   S5 C2 * r; ROM T[j]      S6 (C1 - q1) * r
//   S7 p = 2^28 - q2         S8 m = T[j] * p (29x29)
//   S9 y = round(m / 2^(32+n)) (barrel shift), 0 when out of range
`default_nettype none

module exp_core
  import model_pkg::*;
#(
    parameter int IW = 33,
    parameter int F  = 22
) (
    input  logic                 clk,
    input  logic                 ce,
    input  logic signed [IW-1:0] x,
    output logic        [24:0]   y
);
  // Constants and the table T come from python_ref/kernels/exp.py through the generated package.
  localparam int UB = F + EXP_INPUT_LIMIT_LOG2;   // u < 2^UB (x > -32)
  localparam int TS = F + EXP_LOG2E_FRAC - EXP_T_FRAC;  // t = round(u * LOG2E / 2^TS)
  localparam int PW = UB + 32;          // u * LOG2E
  localparam int OW = EXP_OUT_FRAC + 1; // ap_ufixed<25,1>
  localparam logic [31:0] LOG2E = 32'(EXP_LOG2E_RAW);
  localparam logic [25:0] C2 = 26'(EXP_C2_RAW);
  localparam logic [27:0] C1 = 28'(EXP_C1_RAW);

  if (F < 1 || F > EXP_MAX_FRAC_IN || IW < UB + 1 || EXP_TABLE_BITS != 7 || EXP_R_BITS != 17 ||
      EXP_TABLE_FRAC != 28 || EXP_POLY_FRAC != 28 || EXP_N_ZERO != 26) begin : g_chk
    $error("exp_core: needs 1..25 fraction bits, IW >= F + 6 and the widths this datapath is written for, got F %0d IW %0d", F, IW);
  end


  logic signed [IW-1:0] x1;
  logic        [UB-1:0] u2;
  logic                 z2, z3, z4, z5, z6, z7, z8;
  logic        [PW-1:0] prod3;
  logic        [29:0]   t4;
  logic        [42:0]   p1_5;
  logic        [28:0]   tab5, tab6, tab7;
  logic        [16:0]   r5;
  logic        [5:0]    n5, n6, n7, n8;
  logic        [44:0]   p2_6;
  logic        [28:0]   p7;
  logic        [57:0]   m8;

  // S2 combinational: -x exactly (one more bit), clamp at 0, range check
  logic signed [IW:0] neg;
  assign neg = -(IW+1)'(x1);
  wire  neg_pos = !neg[IW] && (neg != '0);
  wire  big     = neg_pos && (neg[IW-1:0] >= (IW)'(1) << UB);

  // S4 combinational: rounding of u * log2(e)
  logic [PW:0] prod_r;
  assign prod_r = {1'b0, prod3} + ((PW+1)'(1) << (TS - 1));

  // S6 combinational: q1 and C1 - q1
  logic [43:0] q1_sum;
  logic [19:0] q1;
  logic [27:0] a6;
  assign q1_sum = {1'b0, p1_5} + (44'd1 << 23);
  assign q1     = q1_sum[43:24];
  assign a6     = C1 - 28'(q1);

  // S7 combinational: q2
  logic [45:0] q2_sum;
  logic [21:0] q2;
  assign q2_sum = {1'b0, p2_6} + (46'd1 << 23);
  assign q2     = q2_sum[45:24];

  // S9 combinational: round(m / 2^(32 + n)), n < 26
  logic [58:0] m_r;
  logic [58:0] y_sh;
  assign m_r  = {1'b0, m8} + (59'd1 << (31 + 59'(n8)));
  assign y_sh = m_r >> (32 + 59'(n8));

  always_ff @(posedge clk) begin
    if (ce) begin
      x1    <= x;
      u2    <= (neg_pos && !big) ? neg[UB-1:0] : '0;
      z2    <= big;
      prod3 <= PW'(u2) * PW'(LOG2E);
      z3    <= z2;
      t4    <= prod_r[TS +: 30];
      z4    <= z3;
      p1_5  <= 43'(t4[16:0]) * 43'(C2);
      tab5  <= EXP_TABLE[t4[23:17]];
      r5    <= t4[16:0];
      n5    <= t4[29:24];
      z5    <= z4 || (t4[29:24] >= 6'(EXP_N_ZERO));
      p2_6  <= 45'(r5) * 45'(a6);
      tab6  <= tab5;
      n6    <= n5;
      z6    <= z5;
      p7    <= (29'd1 << 28) - 29'(q2);
      tab7  <= tab6;
      n7    <= n6;
      z7    <= z6;
      m8    <= 58'(tab7) * 58'(p7);
      n8    <= n7;
      z8    <= z7;
      y     <= z8 ? '0 : y_sh[OW-1:0];
    end
  end

  wire unused_ok = &{1'b0, q1_sum[23:0], q2_sum[23:0], prod_r[TS-1:0], prod_r[PW:TS+30], y_sh[58:OW]};
endmodule

`default_nettype wire
