// An activation memory: DEPTH entries of WIDTH bits, one write port, one read port with a read
// register and an output register (rd_data holds entry rd_addr two edges after rd_addr was presented;
// a read at the edge of a write to the same entry returns the old data, as a block RAM's read-first
// port does). The linear engine's input buffer (rtl/src/linear_act.sv) and the activation buffers
// between calls (rtl/src/act_buffer.sv) are this memory.
//
// The depth past the last whole 512 goes to distributed RAM when that is at most 64 entries (TAIL):
// edge_moe's engine buffer of 3,096 = 129 rows x 24 beats is 6 x 512 + 24, so a seventh row of block
// RAMs would hold 24 entries of its 512. The block RAM part is 6 deep (72 RAMB36E2 at 864 bits, 84 as
// one memory), the last 24 entries ~500 LUT of LUTRAM; the read takes either part's latch (the block
// RAM's depth choice and the part choice two LUT between the read latch and the output register).
// cosim.frame_schedule.bram_tail is the same rule for the resource model.
`default_nettype none

module act_ram #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 64,
    parameter int AW = 6
) (
    input  logic             clk,
    input  logic             we,
    input  logic [AW-1:0]    wr_addr,
    input  logic [WIDTH-1:0] wr_data,
    input  logic [AW-1:0]    rd_addr,
    output logic [WIDTH-1:0] rd_data
);
  if ((1 << AW) < DEPTH) begin : g_chk
    $error("act_ram: AW (%0d) cannot address DEPTH (%0d) entries", AW, DEPTH);
  end

  localparam int TAIL   = DEPTH > 512 && DEPTH % 512 <= 64 ? DEPTH % 512 : 0;
  localparam int BDEPTH = DEPTH - TAIL;
  (* ram_style = "block" *) logic [WIDTH-1:0] mem [BDEPTH];
  logic [WIDTH-1:0] rd1;
  if (TAIL == 0) begin : g_one
    always_ff @(posedge clk) begin
      if (we) mem[wr_addr] <= wr_data;
      rd1 <= mem[rd_addr];
    end
  end else begin : g_tail
    localparam int TW = TAIL > 1 ? $clog2(TAIL) : 1;
    (* ram_style = "distributed" *) logic [WIDTH-1:0] tail [TAIL];
    logic [WIDTH-1:0] rb, rt;
    logic             rd_tail;   // the read latched from the tail
    wire              wr_tail = wr_addr >= AW'(BDEPTH);
    localparam int BW = $clog2(BDEPTH);
    // BDEPTH is a multiple of 512 > TAIL: an entry's tail index is its address' low TW bits
    always_ff @(posedge clk) begin
      if (we && !wr_tail) mem[wr_addr[BW-1:0]] <= wr_data;
      if (we && wr_tail) tail[wr_addr[TW-1:0]] <= wr_data;
      rb <= mem[rd_addr[BW-1:0]];   // past BDEPTH: a block RAM entry that is not read
      rt <= tail[rd_addr[TW-1:0]];
      rd_tail <= rd_addr >= AW'(BDEPTH);
    end
    assign rd1 = rd_tail ? rt : rb;
  end
  always_ff @(posedge clk) rd_data <= rd1;
endmodule

`default_nettype wire
