// One lane of the attention unit's deferred normalisation (rtl/src/attn_norm.sv): the exact product
// r * U of a row's reciprocal r (RECIP_FORMAT, 32-bit unsigned) and an exact AV sum U (two's
// complement in 64 bits, |U| < 2^58) assigned to act with TRN (floor) and WRAP: o = bits
// [OSH, OSH + ACT_W) of r U (python_ref.kernels.attention step 6; OSH = F_recip + F_exp + F_op - F_act).
// Only r U modulo 2^(OSH + ACT_W) is needed, so the product is formed modulo that.
//
// Six 27 x 18 products (one DSP48E2 each): U = U2 2^52 + U1 2^26 + U0 (U0, U1 26-bit unsigned on the
// A port, U2 = U >> 52 signed) times r = R1 2^17 + R0 (17- and 15-bit unsigned on the B port), then
// three fabric adder stages: q_a = U_a R0 + (U_a R1 << 17); q0 + (q1 << 26); + (q2 << 52).
// Inputs valid in cycle k -> o valid in cycle k + LATENCY (4): products, q, s01, P.
`default_nettype none

module attn_norm_lane
  import model_pkg::*;
#(
    parameter int OSH = 51,
    parameter int LATENCY = 4
) (
    input  logic              clk,
    input  logic [63:0]       u,
    input  logic [31:0]       r,
    output logic [ACT_W-1:0]  o
);
  localparam int PW = OSH + ACT_W;   // the product modulo 2^PW

  if (LATENCY != 4 || PW > 120 || PW < 64) begin : g_chk
    $error("attn_norm_lane: LATENCY is 4 (the stages below), 64 <= OSH + ACT_W <= 120");
  end

  wire signed [26:0] ua [3];
  wire signed [17:0] rb [2];
  assign ua[0] = {1'b0, u[25:0]};
  assign ua[1] = {1'b0, u[51:26]};
  assign ua[2] = 27'($signed(u[63:52]));
  assign rb[0] = {1'b0, r[16:0]};
  assign rb[1] = {3'b0, r[31:17]};

  // stage 1: the six products (27 x 18 signed -> 45 bits)
  logic signed [44:0] p [3][2];
  always_ff @(posedge clk) begin
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 2; b++) p[a][b] <= ua[a] * rb[b];
  end
  // stage 2: q_a = p_a0 + (p_a1 << 17)
  logic [PW-1:0] q [3];
  always_ff @(posedge clk) begin
    for (int a = 0; a < 3; a++) q[a] <= PW'(p[a][0]) + (PW'(p[a][1]) << 17);
  end
  // stage 3: q0 + (q1 << 26); stage 4: + (q2 << 52)
  logic [PW-1:0] s01, q2d, prod;
  always_ff @(posedge clk) begin
    s01  <= q[0] + (q[1] << 26);
    q2d  <= q[2];
    prod <= s01 + (q2d << 52);
  end
  assign o = prod[PW-1:OSH];
  wire unused_ok = &{1'b0, prod[OSH-1:0]};
endmodule

`default_nettype wire
