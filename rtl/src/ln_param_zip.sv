// A LayerNorm layer's {beta, gamma} beside the rows LayerNorm reads from a buffer: the parameters of
// a row's NB = D / L beats in a register file (loaded on gb_, NB beats in feature order; the index
// wraps after NB, so a reload is NB more beats: between calls, not during one), replayed for every
// row in lockstep with the buffer's read beats (x_fire: the handshake of LayerNorm's input), and
// zipped into LayerNorm's x_ lanes (x in bits [64j, 64j+32), {beta, gamma} in [64j+32, 64j+64)).
// Used by rtl/src/residual_layernorm.sv and rtl/src/mlp_block.sv.
`default_nettype none

module ln_param_zip
  import model_pkg::*;
#(
    parameter int L = LAYERNORM_LANES,
    localparam int NB = FEATURE_DIM / L,
    localparam int BW = NB > 1 ? $clog2(NB) : 1
) (
    input  logic               clk,
    input  logic               rst_n,
    input  logic [L*32-1:0]    gb_TDATA,    // per lane {beta, gamma}, gamma in the low 16 bits
    input  logic               gb_TVALID,
    output logic               gb_TREADY,
    input  logic [L*ACT_W-1:0] x_data,      // the buffer's read beat
    input  logic               x_fire,      // LayerNorm took it
    output logic [64*L-1:0]    ln_data      // LayerNorm's x_ beat
);
  logic [L*32-1:0] gb [NB];
  logic [BW-1:0]   wi, gi;     // the next load's beat / the beat of the row the next read belongs to
  assign gb_TREADY = rst_n;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wi <= '0;
      gi <= '0;
    end else begin
      if (gb_TVALID) wi <= wi == BW'(NB - 1) ? '0 : wi + 1'b1;
      if (x_fire) gi <= gi == BW'(NB - 1) ? '0 : gi + 1'b1;
    end
    if (gb_TVALID && rst_n) gb[wi] <= gb_TDATA;
  end
  for (genvar j = 0; j < L; j++) begin : g_lane
    assign ln_data[64*j +: 64] = {gb[gi][32*j +: 32], x_data[ACT_W*j +: ACT_W]};
  end
endmodule

`default_nettype wire
