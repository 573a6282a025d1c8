// What the attn_* modules share: the layout of the step tag that attn_issue puts on every MAC step
// and attn_score / attn_norm read back, and the constant multiplies of the address arithmetic (a
// head's first word = head * DB, a token's first word = row * WPR, a row's first score = row *
// KBMAX): shifts and adds of the constant's set bits, so synthesis builds adders from constants and
// never a DSP48E2.
`default_nettype none

package attn_pkg;
  // The step tag (acc_user / in_user), LSB first: is_av, last block (the last key block of a score
  // row, the last output block of a context row), the row r, the block, then above them the head (HW
  // bits) and r's reciprocal value on top.
  localparam int U_ROW_W = 8, U_BLK_W = 4, U_RV_W = 32;
  typedef struct packed {
    logic [U_BLK_W-1:0] blk;
    logic [U_ROW_W-1:0] row;
    logic               last;
    logic               av;
  } step_tag_t;
  localparam int U_HEAD = $bits(step_tag_t);   // the head's first bit
  function automatic int user_w(input int hw);
    return U_HEAD + hw + U_RV_W;
  endfunction

  localparam int MUL_W = 32;

  // x * k modulo 2^MUL_W. A caller keeps the low bits it needs: the low n bits of a product depend
  // only on the low n bits of x, so truncating afterwards equals multiplying in n bits.
  function automatic logic [MUL_W-1:0] mul_const(input logic [MUL_W-1:0] x, input int unsigned k);
    logic [MUL_W-1:0] sum;
    sum = '0;
    for (int b = 0; b < MUL_W; b++) if (((k >> b) & 1) != 0) sum = sum + (x << b);
    return sum;
  endfunction
endpackage

`default_nettype wire
