// Activation path of the linear engine: the x_ beats (LI act values, the processed rows in order,
// ceil(in_dim / LI) beats per row) are assigned to the MAC array's operand format and written to
// the on-chip activation buffer, which the issue side reads for every output block.
//
//   operand(x) = SAT_SYM(RND(x)) (rtl/src/operand_round.sv; python_ref: formats.operand,
//   ap_fixed<27,9,AP_RND,AP_SAT_SYM>). Lanes past in_dim (the last beat of a row) become 0, so
//   whatever the stationary store holds there multiplies zero.
//
// Two register stages (round, saturate), then the buffer write; wr_pulse is high in the cycle whose
// closing edge writes an entry (the issue side counts them so that block 0 reads no entry early). Buffer:
// one memory of MAX_ROWS * MAX_IB entries of LI * OPERAND_W bits (every lane's operand of a beat side
// by side), entry k * n_ib + ib; the read port (address rd_addr) has a read register and an output
// register: rd_data holds entry rd_addr two edges after rd_addr was presented.
//
// One wide memory, not one per lane: the lanes share both addresses anyway, and the width lets the
// synthesizer use the 512 x 72 aspect, where 32 memories of 27 bits took 3 RAMB36E2 each on edge_moe
// (4K x 9: 96). The memory with its distributed-RAM tail is rtl/src/act_ram.sv.
`default_nettype none

module linear_act
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,
    parameter int ADEPTH = 64,
    parameter int AAW = 6,
    localparam int MB = LI > 1 ? $clog2(LI) : 1
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic                      go,
    input  logic [15:0]               rows_m1,      // processed rows - 1
    input  logic [15:0]               n_ib_m1,      // ceil(in_dim / LI) - 1
    input  logic [MB-1:0]             last_lo,      // in_dim mod LI (read at go)
    input  logic [LI*ACT_W-1:0]       s_axis_x_tdata,
    input  logic                      s_axis_x_tvalid,
    output logic                      s_axis_x_tready,
    output logic                      wr_pulse,
    input  logic [AAW-1:0]            rd_addr,
    output logic [LI*OPERAND_W-1:0]   rd_data
);
  localparam int OW = OPERAND_W;

  // ---- call: beat counters with registered "last" flags
  logic        active;           // beats of the call remain
  logic [15:0] k_left, ib_left;  // rows / in-blocks after the current beat
  logic        k_last, ib_last;  // the current beat is in the last row / the last of its row
  wire         take = active && s_axis_x_tvalid;
  assign s_axis_x_tready = active;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      active <= 1'b0;
    end else if (go) begin
      active <= 1'b1;
    end else if (take && ib_last && k_last) begin
      active <= 1'b0;
    end
    if (go) begin
      k_left  <= rows_m1;
      k_last  <= rows_m1 == '0;
      ib_left <= n_ib_m1;
      ib_last <= n_ib_m1 == '0;
    end else if (take) begin
      ib_left <= ib_last ? n_ib_m1 : ib_left - 1'b1;
      ib_last <= ib_last ? n_ib_m1 == '0 : ib_left == 16'd1;
      if (ib_last) begin
        k_left <= k_left - 1'b1;
        k_last <= k_left == 16'd1;
      end
    end
  end

  // The call's last-beat mask, registered at go (a take is at the earliest one cycle after go:
  // active is set by go): lane j of a row's last beat is inside in_dim when j < ((in_dim - 1) mod LI)
  // + 1, i.e. r == 0 || j < r with r = in_dim mod LI. One compare of a flip-flop against a constant
  // per lane. From a constant table indexed by r, Yosys made a ROM out of the table and ABC mapped
  // its read as a chain of 6 LUT2 / LUT3 (3.51 ns on edge_moe; 3.96 with the launch mux in front).
  logic [LI-1:0] mask_q;
  always_ff @(posedge clk) begin
    if (go)
      for (int j = 0; j < LI; j++) mask_q[j] <= last_lo == '0 || (MB + 1)'(j) < (MB + 1)'(last_lo);
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && go && active) $error("linear_act: go while a call is active (mask_q would change under it)");
  end
`endif

  // ---- R: mask, add the rounding half; S: shift, saturate symmetrically (rtl/src/operand_round.sv)
  logic            v_r, v_s;
  logic [LI*OW-1:0] s_word;    // the beat's operands, lane i at [i*OW +: OW]: the buffer's word
  logic [LI-1:0]    zero;      // lanes past in_dim on a row's last beat
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v_r <= 1'b0;
      v_s <= 1'b0;
    end else begin
      v_r <= take;
      v_s <= v_r;
    end
  end
  always_comb
    for (int i = 0; i < LI; i++) zero[i] = ib_last && !mask_q[i];
  operand_round #(.L(LI)) u_round (.clk, .x(s_axis_x_tdata), .zero, .odd(1'b0), .y(s_word));

  // ---- the buffer (rtl/src/act_ram.sv: block RAM with a distributed-RAM tail), entry k * n_ib + ib
  logic [AAW-1:0] wa;
  always_ff @(posedge clk) begin
    if (go) wa <= '0;
    else if (v_s) wa <= wa + 1'b1;
  end
  assign wr_pulse = v_s;  // the entry is in the memory after this edge: readable from the next cycle
  act_ram #(.WIDTH(LI * OW), .DEPTH(ADEPTH), .AW(AAW)) u_ram (
      .clk, .we(v_s), .wr_addr(wa), .wr_data(s_word), .rd_addr, .rd_data);
endmodule

`default_nettype wire
