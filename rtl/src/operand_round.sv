// The assignment of act values to the MAC array's activation operand, lane by lane:
//
//   operand(x) = SAT_SYM(RND(x)): round half up at the operand's LSB (x + 2^(AF-OF-1), then an
//   arithmetic shift by AF - OF), then symmetric saturation to +-(2^(OPERAND_W-1) - 1)
//   (python_ref: formats.operand, ap_fixed<27,9,AP_RND,AP_SAT_SYM>).
//
// `odd` (every lane) rounds to odd instead: the operand's bits of x truncated, the LSB or-ed with the
// dropped bits, then the same saturation (python_ref.kernels.act_buffer.store: a narrow buffer's
// round-to-odd write, which a later coarser rounding does not see as a second rounding). It costs no
// LUT level: the rounding half is left out of the add (one bit of its constant), and the sticky bit
// is or-ed into the LSB of an unsaturated result only (the saturation decision taken on the truncated
// value is the same: QMAX is odd, and -2^(W-1) | 1 = -QMAX).
//
// Two register stages, no enable: R (add the rounding half, or note the sticky bit; `zero` makes the
// lane 0 instead) and S (shift, saturate); y holds the operands of the x presented two edges before.
// The one RTL definition of the conversion: the engine's input buffer (rtl/src/linear_act.sv, lanes
// past in_dim zeroed) and the narrow activation buffers (rtl/src/act_buffer.sv) use it.
`default_nettype none

module operand_round
  import model_pkg::*;
#(
    parameter int L = 1
) (
    input  logic                   clk,
    input  logic [L*ACT_W-1:0]     x,
    input  logic [L-1:0]           zero,
    input  logic                   odd,    // round to odd (else half up)
    output logic [L*OPERAND_W-1:0] y      // lane i at [i*OPERAND_W +: OPERAND_W]
);
  localparam int AW = ACT_W;
  localparam int OW = OPERAND_W;
  localparam int SH = (ACT_W - ACT_I) - (OPERAND_W - OPERAND_I);
  localparam logic signed [AW:0] QMAX = (AW + 1)'((1 << (OW - 1)) - 1);

  if (SH < 1 || OPERAND_QUANT != 2 || OPERAND_OVERFLOW != 3 || OW > 27) begin : g_chk
    $error("operand_round: implements operand = ap_fixed<W<=27,.,AP_RND,AP_SAT_SYM> with fewer fraction bits than act");
  end

  logic [AW:0] r_sum [L];
  logic        r_stk [L];      // round to odd: a dropped bit was set
  always_ff @(posedge clk)
    for (int i = 0; i < L; i++) begin
      r_sum[i] <= zero[i] ? '0 : (AW + 1)'($signed(x[i*AW +: AW])) + (AW + 1)'(odd ? 0 : 1 << (SH - 1));
      r_stk[i] <= !zero[i] && odd && x[i*AW +: SH] != '0;
      begin
        logic signed [AW:0] t;
        t = $signed(r_sum[i]) >>> SH;
        y[i*OW +: OW] <= t > QMAX ? OW'(QMAX) : t < -QMAX ? OW'(-QMAX) : OW'(t) | OW'(r_stk[i]);
      end
    end
endmodule

`default_nettype wire
