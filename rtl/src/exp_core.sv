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
module exp_core #(
    parameter int IW = 33,
    parameter int F  = 22
) (
    input  logic                 clk,
    input  logic                 ce,
    input  logic signed [IW-1:0] x,
    output logic        [24:0]   y
);
  localparam int UB = F + 5;            // u < 2^UB (x > -32)
  localparam int TS = F + 31 - 24;      // t = round(u * LOG2E / 2^TS)
  localparam int PW = UB + 32;          // u * LOG2E
  localparam int OW = 25;               // ap_ufixed<25,1>
  localparam logic [31:0] LOG2E = 32'd3098164009;
  localparam logic [25:0] C2 = 26'd64485312;
  localparam logic [27:0] C1 = 28'd186065279;

  if (F < 1 || F > 25 || IW < UB + 1) begin : g_chk
    $error("exp_core: needs 1..25 fraction bits and IW >= F + 6, got F %0d IW %0d", F, IW);
  end

  // T[j] = round(2^(-j/128) * 2^28): python_ref.kernels.exp.exp_table() (tests/test_exp.py checks it)
  localparam logic [28:0] EXP_TABLE [128] = '{
      29'd268435456, 29'd266985750, 29'd265543873, 29'd264109783, 29'd262683438, 29'd261264796,
      29'd259853815, 29'd258450455, 29'd257054673, 29'd255666430, 29'd254285684, 29'd252912394,
      29'd251546522, 29'd250188026, 29'd248836866, 29'd247493003, 29'd246156398, 29'd244827012,
      29'd243504805, 29'd242189739, 29'd240881774, 29'd239580874, 29'd238286999, 29'd237000112,
      29'd235720175, 29'd234447150, 29'd233181000, 29'd231921688, 29'd230669177, 29'd229423431,
      29'd228184412, 29'd226952085, 29'd225726413, 29'd224507360, 29'd223294891, 29'd222088970,
      29'd220889561, 29'd219696630, 29'd218510142, 29'd217330061, 29'd216156353, 29'd214988984,
      29'd213827920, 29'd212673126, 29'd211524568, 29'd210382214, 29'd209246029, 29'd208115979,
      29'd206992033, 29'd205874157, 29'd204762318, 29'd203656483, 29'd202556621, 29'd201462698,
      29'd200374683, 29'd199292545, 29'd198216250, 29'd197145768, 29'd196081067, 29'd195022116,
      29'd193968884, 29'd192921341, 29'd191879454, 29'd190843195, 29'd189812531, 29'd188787434,
      29'd187767873, 29'd186753818, 29'd185745240, 29'd184742109, 29'd183744395, 29'd182752069,
      29'd181765103, 29'd180783466, 29'd179807131, 29'd178836069, 29'd177870251, 29'd176909649,
      29'd175954235, 29'd175003981, 29'd174058859, 29'd173118840, 29'd172183899, 29'd171254007,
      29'd170329136, 29'd169409261, 29'd168494353, 29'd167584386, 29'd166679334, 29'd165779170,
      29'd164883866, 29'd163993399, 29'd163107740, 29'd162226864, 29'd161350745, 29'd160479358,
      29'd159612677, 29'd158750677, 29'd157893331, 29'd157040616, 29'd156192507, 29'd155348977,
      29'd154510003, 29'd153675560, 29'd152845623, 29'd152020169, 29'd151199172, 29'd150382609,
      29'd149570457, 29'd148762690, 29'd147959286, 29'd147160220, 29'd146365470, 29'd145575012,
      29'd144788823, 29'd144006880, 29'd143229160, 29'd142455640, 29'd141686297, 29'd140921110,
      29'd140160054, 29'd139403109, 29'd138650252, 29'd137901461, 29'd137156714, 29'd136415988,
      29'd135679263, 29'd134946517
  };

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
      z5    <= z4 || (t4[29:24] >= 6'd26);
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
