// Constant multiplies of the attention unit's address arithmetic (a head's first word = head * DB,
// a token's first word = row * WPR, a row's first score = row * KBMAX): shifts and adds of the
// constant's set bits, so synthesis builds adders from constants and never a DSP48E2. One
// definition for every attn_* module that needs one.
`default_nettype none

package attn_pkg;
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
