// Issue control of the linear engine: one array step per cycle in Edge-MoE's weight-stationary
// order, for each output block (a loaded bank), for each processed row k, for each in-block ib.
//
// A step issues (fire) when its bank is loaded (full), on block 0 when its activation entry is in
// the buffer (x_nz), and, if it completes an output beat (last in-block), when the output FIFO has
// a free entry for it (credits_nz). Every condition is a registered flag kept one step ahead
// (the "next is zero" of each counter is computed from its registered value and the step), so the
// fire decision is a few LUTs deep.
//
// Steps go to the array two cycles after fire (the activation buffer's read and output registers):
// in_first on ib = 0 with the block's biases on the C port, in_last on the last in-block, the
// stationary entry {bank, ib}. The beat's flags ride along as the array's user bits: {call_last,
// block_first, block_last, row_last}. A bank is released LI cycles after its block's last step
// fired: the array's last row reads the store up to LI + 1 cycles after fire, and the loader writes
// no earlier than two cycles after the release.
`default_nettype none

module linear_issue #(
    parameter int LI = 4,
    parameter int LO = 4,
    parameter int IBW = 5,
    parameter int AAW = 6,
    parameter int PW = 48,
    parameter int CREDITS = 16,         // output FIFO entries
    parameter int XW = 16               // x entry counter width
) (
    input  logic               clk,
    input  logic               rst_n,
    input  logic               go,
    input  logic [15:0]        n_ib_m1,
    input  logic [15:0]        rows_m1,
    input  logic [1:0]         full,
    input  logic [1:0]         handover,       // the loader sets full[bank] at the end of this cycle
    input  logic [1:0]         last_blk,
    output logic [1:0]         consume_bank,   // the block's last step fired: the bank is no longer full
    output logic [1:0]         release_bank,   // LI cycles later: the array no longer reads it
    input  logic               x_wr,           // an activation entry is written at the end of this cycle
    input  logic               credit_ret,     // an output FIFO entry was freed
    input  logic [2*LO*PW-1:0] bias_c,
    output logic               active,         // a call's steps remain (a register)
    output logic [AAW-1:0]     rd_addr,
    output logic               st_valid,
    output logic               st_first,
    output logic               st_last,
    output logic [IBW:0]       st_addr,
    output logic [LO*PW-1:0]   st_c,
    output logic [3:0]         st_user
);
  localparam int CW = $clog2(CREDITS + 1);

  logic          cbank, cfirst;
  logic [IBW-1:0] ib;
  logic [15:0]   ib_left, k_left;
  logic          ib_last, k_last;
  logic [AAW-1:0] ca;
  logic [CW-1:0] credits;
  logic          credits_nz;
  wire  [CW-1:0] cred_ret = credits + CW'(credit_ret);
  logic [XW-1:0] x_diff;          // block 0: entries written minus entries issued
  logic          x_nz;
  logic [LI-1:0] rel_d;           // blk_end delayed 1 .. LI cycles
  logic [LI-1:0] rel_bank_d;      // its bank

  // cfull == full[cbank], registered from the next values of full (the loader's handover sets a bank,
  // blk_end consumes cbank and moves to the other bank): no bank multiplexer in front of fire, whose
  // net drives the step counters
  logic cfull;
  wire fire      = active && cfull && (!cfirst || x_nz) && (!ib_last || credits_nz);
  wire blk_end   = fire && ib_last && k_last;
  wire take_cred = fire && ib_last;
  wire take_x    = fire && cfirst;
  always_ff @(posedge clk) begin
    if (!rst_n) cfull <= 1'b0;
    else cfull <= blk_end ? full[!cbank] || handover[!cbank] : full[cbank] || handover[cbank];
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && cfull != full[cbank]) $error("linear_issue: cfull differs from full[cbank]");
  end
`endif
  assign rd_addr = ca;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      active     <= 1'b0;
      credits    <= CW'(CREDITS);
      credits_nz <= 1'b1;
      x_diff     <= '0;
      x_nz       <= 1'b0;
    end else begin
      // == credits - take_cred + credit_ret, with take_cred (behind fire, whose net drives the step
      // counters) as the last select of two sums of flip-flops and the return (credits <- ib_last was
      // 4 LUT, 3.00-3.01 ns in moe_experts and the MoE tops)
      credits    <= take_cred ? cred_ret - CW'(1) : cred_ret;
      credits_nz <= credit_ret || !(credits == '0 || (credits == CW'(1) && take_cred));
      if (go) begin
        active <= 1'b1;
        x_diff <= '0;
        x_nz   <= 1'b0;
      end else begin
        // one cycle after the call's last step (from the release taps: flip-flops only); in that cycle
        // fire is already low: the other bank may hold the next call's block 0, but the loader hands
        // a bank of the next call over only while this flag is low (linear.sv: hold)
        if (rel_d[0] && last_blk[rel_bank_d[0]]) active <= 1'b0;
        x_diff <= x_diff + XW'(x_wr) - XW'(take_x);
        x_nz   <= x_wr || !(x_diff == '0 || (x_diff == XW'(1) && take_x));
      end
    end
  end

  always_ff @(posedge clk) begin
    if (go) begin
      cfirst  <= 1'b1;
      ib      <= '0;
      ib_left <= n_ib_m1;
      ib_last <= n_ib_m1 == '0;
      k_left  <= rows_m1;
      k_last  <= rows_m1 == '0;
      ca      <= '0;
    end else if (fire) begin
      ca      <= blk_end ? '0 : ca + 1'b1;
      ib      <= ib_last ? '0 : ib + 1'b1;
      ib_left <= ib_last ? n_ib_m1 : ib_left - 1'b1;
      ib_last <= ib_last ? n_ib_m1 == '0 : ib_left == 16'd1;
      if (ib_last) begin
        k_left <= k_last ? rows_m1 : k_left - 1'b1;
        k_last <= k_last ? rows_m1 == '0 : k_left == 16'd1;
      end
      if (blk_end) begin
        cbank  <= !cbank;
        cfirst <= 1'b0;
      end
    end
    if (!rst_n) cbank <= 1'b0;  // runs on across calls, as the loader's bank does (no reset at go)
  end

  // ---- bank release, LI cycles after the block's last step fired
  always_ff @(posedge clk) begin
    if (!rst_n) rel_d <= '0;
    else rel_d <= LI'({rel_d, blk_end});
    rel_bank_d <= LI'({rel_bank_d, cbank});
  end
  assign release_bank = {rel_d[LI-1] && rel_bank_d[LI-1], rel_d[LI-1] && !rel_bank_d[LI-1]};
  assign consume_bank = {blk_end && cbank, blk_end && !cbank};

  // ---- two register stages to the array (aligned with the activation buffer's read)
  logic           v1, first1, last1, bank1;
  logic [IBW:0]   addr1;
  logic [3:0]     user1;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v1       <= 1'b0;
      st_valid <= 1'b0;
    end else begin
      v1       <= fire;
      st_valid <= v1;
    end
    first1   <= ib == '0;
    last1    <= ib_last;
    bank1    <= cbank;
    addr1    <= {cbank, ib};
    user1    <= {last_blk[cbank] && k_last, cfirst, last_blk[cbank], k_last};
    st_first <= first1;
    st_last  <= last1;
    st_addr  <= addr1;
    st_user  <= user1;
    st_c     <= first1 ? bias_c[32'(bank1) * LO * PW +: LO * PW] : '0;
  end
endmodule

`default_nettype wire
