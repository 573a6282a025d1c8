// Simple dual-port RAM of the attention unit's buffers (rtl/src/attention.sv): one write port, one
// read port, one clock. The read is synchronous with an output register (a block RAM with DOB_REG,
// or LUTRAM with two registers): rdata is mem[raddr] two edges after raddr was presented, i.e.
// raddr valid in cycle k -> rdata valid in cycle k + 2 (LATENCY = 2). A write at edge E is seen by
// reads whose address is presented after E; the attention unit never reads a word in the cycle it
// is written. No reset: every word is written before it is read.
`default_nettype none

module attn_ram #(
    parameter int W     = 32,
    parameter int DEPTH = 256,
    parameter int AW    = DEPTH > 1 ? $clog2(DEPTH) : 1
) (
    input  logic          clk,
    input  logic          we,
    input  logic [AW-1:0] waddr,
    input  logic [W-1:0]  wdata,
    input  logic [AW-1:0] raddr,
    output logic [W-1:0]  rdata
);
  if (W < 1 || DEPTH < 2 || (1 << AW) < DEPTH) begin : g_chk
    $error("attn_ram: bad geometry W %0d DEPTH %0d AW %0d", W, DEPTH, AW);
  end

  logic [W-1:0] mem [DEPTH];
  logic [W-1:0] rd1;
  always_ff @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    rd1   <= mem[raddr];
    rdata <= rd1;
  end
endmodule

`default_nettype wire
