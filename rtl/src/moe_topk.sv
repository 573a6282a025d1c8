// Top-k of one row of E logits by rank, bit-exact to python_ref.kernels.moe.top_k_by_logit: a stable
// sort of the row on the key (-logit, expert index), slot 0 the largest logit, equal logits by lower
// index. Every expert's rank is the number of experts that outrank it:
//   rank_e = #{i < e : x_i >= x_e} + #{j > e : x_j > x_e}
// The key is a strict total order, so the ranks are a permutation of 0..E-1 and slot j (j < K) is the
// one expert whose rank is j: every slot is always assigned and the K experts are distinct (no
// insertion network with a "no change" path; Edge-MoE's defect (a) cannot occur).
// Pipeline (no stall; the caller reserves room for every row it starts):
//   1: the E(E-1)/2 pairwise signed compares (one 32-bit carry chain each), registered;
//   2: rank_e = popcount of E-1 compare bits, registered;
//   3: slot j = OR over e of (rank_e == j ? e : 0), registered.
// out_valid follows in_valid by LATENCY = 3 cycles. Area grows as E^2 (120 comparators at E = 16).
`default_nettype none

module moe_topk #(
    parameter int E  = 4,    // experts (row length)
    parameter int K  = 2,    // slots, 1..E
    parameter int W  = 32,   // logit width (signed)
    parameter int EB = 8     // expert index bits of the output
) (
    input  logic           clk,
    input  logic           rst_n,      // synchronous, active low
    input  logic           in_valid,
    input  logic [E*W-1:0] in_x,       // logit e in bits e*W +: W (two's complement)
    output logic           out_valid,
    output logic [K*EB-1:0] out_idx    // slot j in bits j*EB +: EB
);
  localparam int RB = E > 1 ? $clog2(E) : 1;   // rank bits (ranks 0..E-1)
  localparam int NP = E * (E - 1) / 2 > 0 ? E * (E - 1) / 2 : 1;

  if (K < 1 || K > E || E > (1 << EB)) begin : g_chk
    $error("moe_topk: need 1 <= K <= E and E <= 2^EB (E %0d, K %0d, EB %0d)", E, K, EB);
  end

  function automatic int pidx(int i, int j);  // i < j
    return i * E - i * (i + 1) / 2 + (j - i - 1);
  endfunction

  // ---- stage 1: ge[p(i,j)] = x_i >= x_j for i < j (i outranks j); else j outranks i
  logic [NP-1:0] ge;
  logic          v1, v2;
  always_ff @(posedge clk) begin
    ge <= '0;
    for (int i = 0; i < E; i++)
      for (int j = i + 1; j < E; j++)
        ge[pidx(i, j)] <= $signed(in_x[i*W +: W]) >= $signed(in_x[j*W +: W]);
  end

  // ---- stage 2: ranks
  logic [RB-1:0] rank [E];
  always_ff @(posedge clk) begin
    for (int e = 0; e < E; e++) begin
      logic [RB:0] r;
      r = '0;
      for (int i = 0; i < e; i++) r = r + (RB+1)'(ge[pidx(i, e)]);
      for (int j = e + 1; j < E; j++) r = r + (RB+1)'(!ge[pidx(e, j)]);
      rank[e] <= RB'(r);
    end
  end

  // ---- stage 3: the expert of each slot
  always_ff @(posedge clk) begin
    for (int s = 0; s < K; s++) begin
      logic [EB-1:0] idx;
      idx = '0;
      for (int e = 0; e < E; e++) if (rank[e] == RB'(s)) idx = idx | EB'(e);
      out_idx[s*EB +: EB] <= idx;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
      out_valid <= 1'b0;
    end else begin
      v1 <= in_valid;
      v2 <= v1;
      out_valid <= v2;
    end
  end
endmodule

`default_nettype wire
