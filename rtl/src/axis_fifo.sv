// Synchronous FIFO with a registered output: distributed-RAM storage (DEPTH >= 2 entries) drained
// into an axis_skid register slice, so m_axis_tdata / m_axis_tvalid come from flip-flops and the
// memory's asynchronous read ends in a register. The writer never pushes into a full FIFO (the
// producer holds a credit per free entry before it issues work that ends in a push: the linear
// engine's steps, the softmax passes), so the write side has no ready: an overflow is a producer
// bug, caught by an assertion in simulation.
// freed pulses once per entry that leaves the memory (the credit return).
// Latency: push edge -> m_axis_tvalid high 2 cycles later (memory -> slice).
// SYNC_READ = 1 (for FIFOs that become block RAM): the memory is read through a register at the
// next read pointer (a block RAM read port that returns the old data on a same-cycle write), and
// the one case where that differs from the asynchronous read, a push into a FIFO that is empty
// after this cycle's pop, is forwarded from a register here. Otherwise Yosys merges rp into the
// block RAM's read port and emulates the write-to-read forwarding with its own compare of wp with
// rp's next value (behind the slice's ready: 5-6 LUT levels); here the forwarding decision is a
// count flag and one LUT after the ready. Same outputs in every cycle as SYNC_READ = 0.
`default_nettype none

module axis_fifo #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 8,
    parameter bit SYNC_READ = 1'b0,
    // SYNC_READ with a DEPTH that is not a power of two: the memory in banks of BANK words (a power of
    // two; the last bank holds the rest), read all at once and chosen by a one-hot register (below)
    parameter int BANK = 1024
) (
    input  logic             clk,
    input  logic             rst_n,    // synchronous, active low
    input  logic [WIDTH-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready,
    output logic             freed
);
  localparam int AW = DEPTH > 1 ? $clog2(DEPTH) : 1;
  // A power-of-two DEPTH wraps its pointers by overflow; any other wraps them at DEPTH - 1 (a block
  // RAM FIFO sized in whole 1K-deep rows of block RAM, not the next power of two), from a registered
  // flag "the pointer is at DEPTH - 1", so the wrap is a select on a flop, not a compare behind the pop.
  localparam bit POW2 = (1 << AW) == DEPTH;
  localparam int BW = BANK > 1 ? $clog2(BANK) : 1;
  localparam int NB = (DEPTH + BANK - 1) / BANK;
  // Banked: block RAM in whole 1K-deep rows (15 x 1024 words: 15 rows, not 16) needs a 15-way choice
  // of the rows' outputs, which Yosys builds from the registered address as a 5-LUT chain behind the
  // block RAMs' clock-to-out (3.33 ns in weight_fifo); a one-hot row register and an AND-OR in kept
  // groups makes it two LUT levels (2.91 ns with the head's own two). A power of two keeps one memory
  // (Yosys picks deep, narrow blocks and a short mux).
  localparam bit BANKED = SYNC_READ && !POW2 && NB > 1;
  if (DEPTH < 2) begin : g_chk
    $error("axis_fifo: DEPTH must be >= 2, got %0d", DEPTH);
  end
  if (BANK < 2 || (1 << BW) != BANK) begin : g_chk_bank
    $error("axis_fifo: BANK must be a power of two >= 2, got %0d", BANK);
  end

  logic [AW-1:0]    wp, rp;
  logic [AW-1:0]    rp1;          // rp + 1, so that a pop only selects (no incrementer behind the slice's ready)
  logic             wp_end, rp1_end;   // wp, rp1 == DEPTH - 1 (POW2: unused, the pointers wrap by overflow)
  wire  [AW-1:0]    wp_next  = !POW2 && wp_end  ? '0 : wp + 1'b1;
  wire  [AW-1:0]    rp1_next = !POW2 && rp1_end ? '0 : rp1 + 1'b1;
  logic [AW:0]      count;
  logic             nonempty;     // count != 0, registered
  logic             sk_ready;
  wire              pop = nonempty && sk_ready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wp       <= '0;
      rp       <= '0;
      rp1      <= AW'(1);
      wp_end   <= 1'b0;
      rp1_end  <= DEPTH == 2;
      count    <= '0;
      nonempty <= 1'b0;
      freed    <= 1'b0;
    end else begin
      if (s_axis_tvalid) begin
        wp     <= wp_next;
        wp_end <= wp == AW'(DEPTH - 2);        // == (wp_next == DEPTH - 1), without the incrementer
      end
      if (pop) begin
        rp      <= rp1;
        rp1     <= rp1_next;
        rp1_end <= rp1 == AW'(DEPTH - 2);
      end
      count    <= count + (AW+1)'(s_axis_tvalid) - (AW+1)'(pop);
      // == (count + push - pop != 0) without the adder: a push, two or more entries, or one entry not popped
      nonempty <= s_axis_tvalid || count > (AW+1)'(1) || (nonempty && !pop);
      freed    <= pop;
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && s_axis_tvalid && !pop && count == (AW+1)'(DEPTH)) $error("axis_fifo: push into a full FIFO");
    if (rst_n && !POW2 && (wp_end != (wp == AW'(DEPTH - 1)) || rp1_end != (rp1 == AW'(DEPTH - 1)) ||
                          rp1 != (rp == AW'(DEPTH - 1) ? '0 : rp + 1'b1)))
      $error("axis_fifo: a pointer's wrap flag or rp1 differs from its pointer");
  end
`endif

  logic [WIDTH-1:0] head;         // the entry at rp
  if (SYNC_READ) begin : g_sync
    logic [WIDTH-1:0] rd_q, wd_q;
    logic             fwd, one;     // fwd: head is the entry pushed last cycle; one: count == 1
    wire  [AW-1:0]    ra = pop ? rp1 : rp;   // rp after this edge
    if (BANKED) begin : g_banked
      logic [NB*WIDTH-1:0] brd;     // every bank's word at ra's offset (each its block RAM's latch)
      logic [NB-1:0]       bsel;    // one-hot: the bank of ra, registered with the reads
      for (genvar b = 0; b < NB; b++) begin : g_bank
        localparam int BD = b == NB - 1 ? DEPTH - b * BANK : BANK;
        (* ram_style = "block" *) logic [WIDTH-1:0] bmem [BD];
        logic [WIDTH-1:0] rdb;
        always_ff @(posedge clk) begin
          if (s_axis_tvalid && wp[AW-1:BW] == (AW-BW)'(b)) bmem[wp[BW-1:0]] <= s_axis_tdata;
        end
        always_ff @(posedge clk) rdb <= bmem[ra[BW-1:0]];   // old data if written this cycle: then fwd is set
        assign brd[b*WIDTH +: WIDTH] = rdb;
      end
      always_ff @(posedge clk) bsel <= NB'(1) << ra[AW-1:BW];
      // the AND-OR in groups of three banks (six inputs a bit: one LUT6), each group kept as its own
      // node: left to itself ABC chains the 15-way OR (5 LUT, 3.33 ns)
      localparam int NG = (NB + 2) / 3;
      logic [NG*WIDTH-1:0] grd;
      for (genvar g = 0; g < NG; g++) begin : g_grp
        (* keep *) logic [WIDTH-1:0] gor;
        always_comb begin
          gor = '0;
          for (int b = 3 * g; b < 3 * g + 3 && b < NB; b++) gor = gor | (brd[b*WIDTH +: WIDTH] & {WIDTH{bsel[b]}});
        end
        assign grd[g*WIDTH +: WIDTH] = gor;
      end
      always_comb begin
        rd_q = '0;
        for (int g = 0; g < NG; g++) rd_q = rd_q | grd[g*WIDTH +: WIDTH];
      end
    end else begin : g_one
      logic [WIDTH-1:0] mem [DEPTH];
      always_ff @(posedge clk) begin
        if (s_axis_tvalid) mem[wp] <= s_axis_tdata;
        rd_q <= mem[ra];              // old data if written this cycle: then fwd is set
      end
    end
    always_ff @(posedge clk) begin
      wd_q <= s_axis_tdata;
      if (!rst_n) begin
        fwd <= 1'b0;
        one <= 1'b0;
      end else begin
        // a push lands at rp's next value exactly when no other entry remains after the pop
        fwd <= s_axis_tvalid && (!nonempty || (one && pop));
        // == (count + push - pop == 1) without the adder behind pop
        one <= (!nonempty && s_axis_tvalid) || (one && s_axis_tvalid == pop) ||
               (count == (AW+1)'(2) && pop && !s_axis_tvalid);
      end
    end
    assign head = fwd ? wd_q : rd_q;
`ifndef SYNTHESIS
    always_ff @(posedge clk) begin
      if (rst_n && one != (count == (AW+1)'(1))) $error("axis_fifo: the count == 1 flag is wrong");
    end
`endif
  end else begin : g_async
    logic [WIDTH-1:0] mem [DEPTH];
    always_ff @(posedge clk) begin
      if (s_axis_tvalid) mem[wp] <= s_axis_tdata;
    end
    assign head = mem[rp];
  end

  axis_skid #(.WIDTH(WIDTH)) u_slice (
      .clk          (clk),
      .rst_n        (rst_n),
      .s_axis_tdata (head),
      .s_axis_tvalid(nonempty),
      .s_axis_tready(sk_ready),
      .m_axis_tdata (m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready)
  );
endmodule

`default_nettype wire
