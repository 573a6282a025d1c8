// exp datapath for x <= 0 (no flow control): bit-exact to python_ref.kernels.exp.exp_neg_raw.
//
//   u = max(-x, 0); u >= 32 -> 0;  t = round(u * log2(e)) (24 fraction bits) = n + j/128 + r;
//   2^-r ~ 1 - r (C1 - r C2) (Horner, 28 fraction bits, each product rounded half up);
//   y = round(T[j] * p / 2^(32 + n)), T[j] = round(2^(-j/128) * 2^28); n >= 26 -> 0.
// x > 0 saturates to 1.0. Every width and rounding: python_ref/kernels/exp.py, docs/nonlinear.md.
//
// x: signed, F fraction bits, IW bits (the softmax feeds the exact difference of two activations,
// ap_fixed<ACT_W+1, ACT_I+1>). y: ap_ufixed<25,1>. All stages advance together on ce; y is the
// registered result of the x presented LATENCY = exp_core_pkg::EXP_CORE_LATENCY (12) enabled
// clock edges earlier. Instantiating units read that constant (import exp_core_pkg::*).
//
// Pipeline for 300 MHz (docs/timing.md): every multiply is a single DSP48E2 between two fabric
// registers (no logic on either side), and every rounding, subtraction or sum of partial products
// sits in the stage after its multiply. The same integers as the spec, regrouped exactly:
//   u * LOG2E  = 2 u' (L_hi 2^17 + L_lo) + u0 LOG2E        (u = 2 u' + u0: u' fits the 26-bit port)
//   (C1 - q1) r = r 2^27 + (C1' - q1) r,  C1' = C1 - 2^27   (C1 - q1 is in [2^27, 2^28))
//   q2 = round((C1 - q1) r / 2^24) = 8 r + round((C1' - q1) r / 2^24)   (r 2^27 is a multiple of 2^24)
//   T p = T (2^28 - q2) = T 2^28 - q2 T_lo - q2 T_hi 2^17
//   round(m / 2^(32+n)) = (floor(m / 2^(31+n)) + 1) >> 1 = ((m >> 31 >> n) + 1) >> 1
//
//   E1  x1 = x                                  E7  P2 = (C1' - q1) * r        (DSP 26x17)
//   E2  u = max(-x1, 0), 0 if u >= 2^(F+5)      E8  q2 = round(P2 / 2^24) + 8 r
//   E3  PA = u' * L_lo, PB = u' * L_hi (DSPs)   E9  ML = q2 * T_lo, MH = q2 * T_hi (DSPs)
//   E4  t = round((2 PA + 2^18 PB + u0 LOG2E) / 2^(F+7)); n, j, r
//   E5  P1 = r * C2 (DSP 17x26); T[j] (ROM)     E10 m = T 2^28 - ML - 2^17 MH
//   E6  q1 = round(P1 / 2^24), C1' - q1         E11 s = (m >> 31) >> n   (barrel shift)
//                                               E12 y = (s + 1) >> 1, or 0 (out of range)
// Delay lines that feed a multiplier end in a register with logic in front (tab8 is masked with
// the zero flag), so Yosys cannot turn their last stage into an SRL16E (slow clock-to-out).
`default_nettype none

// The latency as a package constant, so the units that instantiate exp_core (exp, softmax_stats,
// softmax_prob) size their side pipelines from it. A package next to its module: Verilator wants
// the file named after the package, and sees the constant unused when the top does not import it.
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDPARAM */
package exp_core_pkg;
  localparam int EXP_CORE_LATENCY = 12;  // x -> y in enabled clock edges
endpackage
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on DECLFILENAME */

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
  localparam int LATENCY = exp_core_pkg::EXP_CORE_LATENCY;
  // Constants and the table T come from python_ref/kernels/exp.py through the generated package.
  localparam int UB = F + EXP_INPUT_LIMIT_LOG2;         // u < 2^UB (x > -32)
  localparam int TS = F + EXP_LOG2E_FRAC - EXP_T_FRAC;  // t = round(u * LOG2E / 2^TS)
  localparam int PW = UB + 33;                          // 2 PA + 2^18 PB + u0 LOG2E + 2^(TS-1)
  localparam int OW = EXP_OUT_FRAC + 1;                 // ap_ufixed<25,1>
  localparam logic [31:0] LOG2E = 32'(EXP_LOG2E_RAW);
  localparam logic [16:0] L_LO  = LOG2E[16:0];
  localparam logic [14:0] L_HI  = LOG2E[31:17];
  localparam logic [25:0] C2    = 26'(EXP_C2_RAW);
  localparam logic [25:0] C1P   = 26'(EXP_C1_RAW - (1 << 27));  // C1' = C1 - 2^27 (C1 in [2^27, 2^28))
  localparam logic [PW-1:0] RND_T = PW'(1) << (TS - 1);

  if (F < 1 || F > EXP_MAX_FRAC_IN || IW < UB + 1 || EXP_TABLE_BITS != 7 || EXP_R_BITS != 17 ||
      EXP_TABLE_FRAC != 28 || EXP_POLY_FRAC != 28 || EXP_N_ZERO != 26 || EXP_OUT_FRAC != 24 ||
      EXP_C1_RAW < (1 << 27) || EXP_C1_RAW - (1 << 27) >= (1 << 26) || EXP_C2_RAW >= (1 << 26) ||
      LATENCY != 12) begin : g_chk
    $error("exp_core: needs 1..25 fraction bits, IW >= F + 6 and the widths this datapath is written for, got F %0d IW %0d", F, IW);
  end

  // ---- E2: u = -x1 for x1 in [-(2^UB - 1), -1], else 0 (x >= 0 or x <= -32)
  logic signed [IW-1:0] x1;
  logic        [UB-1:0] u2;
  logic                 z2;
  // No wide reduction here: with every bit above u's range set, -2^UB <= x1 < 0 and the low UB bits
  // of -x1 are u, except x1 = -2^UB whose low bits negate to 0 (caught in E3 as top2 && u2 == 0).
  wire  top_ones = &x1[IW-1:UB];            // sign and every bit above u's range set
  wire  big      = x1[IW-1] && !top_ones;   // x1 < -2^UB: result 0
  logic [UB-1:0] neg_low;
  assign neg_low = ~x1[UB-1:0] + UB'(1);
  logic top2;

  // ---- E3: partial products of u * LOG2E (u = 2 u' + u0)
  logic [UB+15:0] pa3;   // u' * L_lo: (UB-1) + 17 bits
  logic [UB+13:0] pb3;   // u' * L_hi: (UB-1) + 15 bits
  logic           u0_3, z3;

  // ---- E4: t = round(u * LOG2E / 2^TS)
  logic [PW-1:0] prod_r;
  assign prod_r = (PW'(pa3) << 1) + (PW'(pb3) << 18) + (u0_3 ? PW'(LOG2E) + RND_T : RND_T);
  logic [29:0] t4;
  logic        z4;

  // ---- E5: P1 = r * C2, the table, n, the zero flag
  logic [42:0] p1_5;
  // keep: the table read's register stays a flip-flop. Else tab5 -> tab6 -> tab7 become one SRL16E whose
  // D (a routed net and the SRL's slower setup) ends the ROM's LUT levels: 3.16 ns in the attention unit
  // on edge_moe (docs/timing.md)
  (* keep *) logic [28:0] tab5;
  logic [28:0] tab6, tab7, tab8, tab9;
  logic [16:0] r5, r6, r7;
  logic [5:0]  n5, n6, n7, n8, n9, n10;
  logic        z5, z6, z7, z8, z9, z10, z11;

  // ---- E6: q1 = round(P1 / 2^24), a = C1' - q1
  logic [43:0] q1_sum;
  logic [19:0] q1;
  assign q1_sum = {1'b0, p1_5} + (44'd1 << 23);
  assign q1     = q1_sum[43:24];
  logic [25:0] a6;

  // ---- E7, E8: P2 = a * r, q2 = round(P2 / 2^24) + 8 r
  logic [42:0] p2_7;
  logic [43:0] q2_sum;
  assign q2_sum = {1'b0, p2_7} + (44'd1 << 23);
  logic [20:0] q2_8;    // q2 < 2^21

  // ---- E9: q2 * T (T = T_hi 2^17 + T_lo)
  logic [37:0] ml9;     // q2 * T_lo: 21 + 17 bits
  logic [32:0] mh9;     // q2 * T_hi: 21 + 12 bits

  // ---- E10, E11, E12: m, the shift, the rounding
  logic [56:0] m_full;
  assign m_full = (57'(tab9) << 28) - 57'(ml9) - (57'(mh9) << 17);
  logic [25:0] m10;     // m >> 31 (m <= 2^56)
  logic [25:0] s11;
  // E11: the shift by n < 26 as two 4:1 steps and a 2:1 step (one LUT6 level each)
  logic [25:0] sh_a, sh_b;
  assign sh_a = m10 >> {n10[4:3], 3'b000};
  assign sh_b = sh_a >> {n10[2:1], 1'b0};
  logic [25:0] s_inc;
  assign s_inc = s11 + 26'd1;

  always_ff @(posedge clk) begin
    if (ce) begin
      // E1
      x1    <= x;
      // E2
      u2    <= top_ones ? neg_low : '0;
      top2  <= top_ones;
      z2    <= big;
      // E3
      pa3   <= (UB+16)'(u2[UB-1:1]) * (UB+16)'(L_LO);
      pb3   <= (UB+14)'(u2[UB-1:1]) * (UB+14)'(L_HI);
      u0_3  <= u2[0];
      z3    <= z2 || (top2 && u2 == '0);   // x1 = -2^UB (x = -32): result 0
      // E4
      t4    <= prod_r[TS +: 30];
      z4    <= z3;
      // E5
      p1_5  <= 43'(t4[16:0]) * 43'(C2);
      tab5  <= EXP_TABLE[t4[23:17]];
      r5    <= t4[16:0];
      n5    <= t4[29:24];
      z5    <= z4 || (t4[29:24] >= 6'(EXP_N_ZERO));
      // E6
      a6    <= C1P - 26'(q1);
      r6    <= r5;
      tab6  <= tab5;
      n6    <= n5;
      z6    <= z5;
      // E7
      p2_7  <= 43'(a6) * 43'(r6);
      r7    <= r6;
      tab7  <= tab6;
      n7    <= n6;
      z7    <= z6;
      // E8 (tab8 masked by the zero flag: a real register, not an SRL output; z forces y = 0)
      q2_8  <= 21'(q2_sum[43:24]) + 21'({r7, 3'b000});
      tab8  <= z7 ? '0 : tab7;
      n8    <= n7;
      z8    <= z7;
      // E9
      ml9   <= 38'(q2_8) * 38'(tab8[16:0]);
      mh9   <= 33'(q2_8) * 33'(tab8[28:17]);
      tab9  <= tab8;
      n9    <= n8;
      z9    <= z8;
      // E10
      m10   <= m_full[56:31];
      n10   <= z9 ? '0 : n9;   // logic in front: a flip-flop, not an SRL output (z forces y = 0 anyway)
      z10   <= z9;
      // E11
      s11   <= sh_b >> n10[0];
      z11   <= z10;
      // E12
      y     <= z11 ? '0 : s_inc[OW:1];
    end
  end

  wire unused_ok = &{1'b0, q1_sum[23:0], q2_sum[23:0], q2_sum[43], prod_r[TS-1:0], prod_r[PW-1:TS+30],
                     m_full[30:0], s_inc[0], n10[5]};
endmodule

`default_nettype wire
