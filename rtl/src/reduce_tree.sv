// A registered reduction tree over the L lanes of a beat (softmax_stats' max tree and sum tree):
// level 0 registers the leaves, each of the log2(L) levels above it combines two lanes of the level
// below with one operation, so a level is one compare + select or one adder between registers.
//   OP "max": the signed maximum (the upper lane where it is greater, else the lower)
//   OP "sum": the DW-bit sum (the caller makes DW wide enough that it cannot wrap)
// The beat's valid / first / last flags move beside the levels (out_* after LV + 1 edges, with the
// root); only valid is reset.
`default_nettype none

module reduce_tree #(
    parameter int    L  = 1,       // lanes (a power of two)
    parameter int    DW = 32,      // lane width, at every level
    parameter string OP = "sum"    // "max" or "sum"
) (
    input  logic            clk,
    input  logic            rst_n,       // synchronous, active low
    input  logic            in_valid,
    input  logic            in_first,
    input  logic            in_last,
    input  logic [L*DW-1:0] in_leaves,   // lane i at [i*DW +: DW]
    output logic            out_valid,
    output logic            out_first,
    output logic            out_last,
    output logic [DW-1:0]   out_root
);
  localparam int LV = L > 1 ? $clog2(L) : 0;

  if ((1 << LV) != L || !(OP == "max" || OP == "sum")) begin : g_chk
    $error("reduce_tree: L must be a power of two and OP \"max\" or \"sum\"");
  end

  // one level's operation on lanes 2i (lo) and 2i+1 (hi) of the level below
  function automatic logic [DW-1:0] combine(input logic [DW-1:0] lo, input logic [DW-1:0] hi);
    if (OP == "max") combine = ($signed(hi) > $signed(lo)) ? hi : lo;
    else combine = lo + hi;
  endfunction

  // a side-band bit beside the levels (bit j with level j): b shifted in (LV = 0 as well)
  function automatic logic [LV:0] shift_in(input logic [LV:0] v, input logic b);
    shift_in = (LV+1)'({v, b});
  endfunction

  logic [DW-1:0] tr [LV+1][L];
  logic [LV:0]   tv, tf, tl;
  always_ff @(posedge clk) begin
    if (!rst_n) tv <= '0;
    else tv <= shift_in(tv, in_valid);
  end
  always_ff @(posedge clk) begin
    tf <= shift_in(tf, in_first);
    tl <= shift_in(tl, in_last);
    for (int i = 0; i < L; i++) tr[0][i] <= in_leaves[i*DW +: DW];
    for (int j = 1; j <= LV; j++)
      for (int i = 0; i < (L >> j); i++) tr[j][i] <= combine(tr[j-1][2*i], tr[j-1][2*i+1]);
  end

  assign out_valid = tv[LV];
  assign out_first = tf[LV];
  assign out_last  = tl[LV];
  assign out_root  = tr[LV][0];
endmodule

`default_nettype wire
