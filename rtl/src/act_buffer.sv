// An activation buffer between calls (python_ref/kernels/act_buffer.py is the specification): ROWS
// rows of VALUES act values, kept as NB = ceil(VALUES / L) beats of L values, entry row * NB + beat,
// in one rtl/src/act_ram.sv memory. The frame's residual x (written by the accumulate calls' y_, read
// as LayerNorm's rows and as the accumulate calls' acc_) and fc1's hidden rows (written by fc1's y_,
// read as fc2's x_) are such buffers; NARROW keeps each value as the MAC array's operand, the form
// the engine reduces x_ to first, so a buffer that only feeds x_ is 27 bits a value, not 32.
//
// Ports (Vitis stream naming, ap_ctrl_none):
//   cmd_  64-bit command words, each followed by its list words when it has a list (the word format
//         is python_ref.kernels.act_buffer's: direction, order, list, round to odd, first beat, beats,
//         base, rows).
//         TLAST ignored.
//   wr_   the beats of the write commands, in command order, each command's beats in its order
//         (row-major or block-major over its rows and its beats first .. first + n_beats - 1).
//         TLAST ignored (the unit counts).
//   rd_   the beats of the read commands, in command order; TLAST on each command's last beat.
//   idle  no command held, pending or running and no beat in flight (rd_ empty).
//   err   sticky until reset: a command or list word broke the format; cmd_ then stops (at most one
//         more word is taken after a bad list word; the commands before it run to the end).
//
// Order of effects: a read starts only once every write commanded before it has landed (the fence:
// tag = writes dispatched before it, against wr_done). A write commanded after a read may run beside
// it; it must not overwrite an entry the read has not read yet, which the frame's data flow ensures
// (an accumulate call's y_ beat comes after its acc_ beat) and a simulation check below catches.
//
// Inside: a command register (h), one pending and one running command per direction, each listed
// command's rows in its direction's table (two halves: the pending command's list loads while the
// running one reads the other). Running a command: one beat per cycle (a read while its output FIFO
// has a credit, a write while wr_TVALID), (k, beat) counters in the command's order with registered
// last flags, the next command of the direction launched in the cycle of the last beat (no bubble).
// Address pipeline: S1 the row (table read or base + k) and beat, S2 row * NB + beat (NB's set bits
// as shifted adds: no multiplier); the write data goes through two stages beside it (NARROW: round,
// saturate: rtl/src/operand_round.sv; else registers) and is written at S2. Reads: the memory's two
// registers, then a 16-entry axis_fifo whose free entries are the read credits.
`default_nettype none

module act_buffer
  import model_pkg::*;
#(
    parameter int L = LINEAR_OUT,
    parameter int VALUES = FEATURE_DIM,
    parameter int ROWS = NUM_TOKENS,
    parameter bit NARROW = 1'b0,
    // 1: wr_ passes a register slice (rtl/src/axis_skid.sv) first, for a top whose wr_ valid is a
    // route's choice among several sources (the block tops: the choice in front of the buffer's write
    // issue was a LUT level too many); one cycle more from a beat to its write
    parameter bit WR_SLICE = 1'b0,
    localparam int NB = (VALUES + L - 1) / L,
    localparam int DEPTH = ROWS * NB,
    localparam int AW = DEPTH > 1 ? $clog2(DEPTH) : 1
) (
    input  logic               clk,
    input  logic               rst_n,      // synchronous, active low
    input  logic [63:0]        cmd_TDATA,
    input  logic               cmd_TVALID,
    output logic               cmd_TREADY,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic               cmd_TLAST,  // ignored
    input  logic [L*ACT_W-1:0] wr_TDATA,
    input  logic               wr_TVALID,
    output logic               wr_TREADY,
    input  logic               wr_TLAST,   // ignored
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [L*ACT_W-1:0] rd_TDATA,
    output logic               rd_TVALID,
    input  logic               rd_TREADY,
    output logic               rd_TLAST,
    output logic               idle,
    output logic               err
);
  localparam int SW = NARROW ? OPERAND_W : ACT_W;   // stored bits a value
  localparam int AF = ACT_W - ACT_I;
  localparam int OF = OPERAND_W - OPERAND_I;
  localparam int SH = AF - OF;                      // operand -> act: a left shift by SH
  localparam int RW = ROWS > 1 ? $clog2(ROWS) : 1;  // a row number
  localparam int KW = 11;                           // a command's row count / index (the n field)
  localparam int BW = 6;                            // a beat index (the n_beats field)
  localparam int FIFO_DEPTH = 16;

  if (ROWS < 1 || ROWS > 2047 || NB > 64 || L < 1) begin : g_chk
    $error("act_buffer: ROWS (%0d) must be 1..2047 and NB = ceil(VALUES / L) (%0d) at most 64 (the command's fields)",
           ROWS, NB);
  end
  if (NARROW && (SH < 1 || ACT_I < OPERAND_I)) begin : g_chk_narrow
    $error("act_buffer: NARROW needs the operand inside act with fewer fraction bits (its values returned exactly)");
  end

  // ---- commands: h (the word register) -> pend[d] -> run[d]; d = 1 read, 0 write
  typedef struct packed {
    logic          blk;     // block-major
    logic          lst;     // rows from the table
    logic          odd;     // a write rounds to odd (NARROW)
    logic [BW-1:0] first;   // the first beat of each row
    logic [BW-1:0] nb_m1;   // beats a row - 1
    logic [RW-1:0] base;
    logic [KW-1:0] n_m1;    // rows - 1
    logic          half;    // the table half of its list
    logic [3:0]    tag;     // reads: the writes dispatched before it
  } cmd_t;

  logic          h_v, h_bad;       // the command word held / it breaks the format (decoded as it is taken)
  /* verilator lint_off UNUSEDSIGNAL */   // the reserved bits and n (h_n_m1) are decoded as the word is taken
  logic [63:0]   h_w;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [KW-1:0] h_n_m1;
  logic          listing;          // list words are being taken
  logic          list_d;           // their direction
  logic [KW-1:0] list_k, list_left;
  logic          lw_v, lw_hi, lw_last, lw_d;    // the list word taken in the cycle before (lw_hi: bits 63:16 set)
  logic [15:0]   lw_word;
  logic [RW-1:0] lw_k;
  logic [1:0]    pend_v, pend_rdy; // pending command held / its list complete
  cmd_t          pend [2];
  logic [1:0]    half_next;        // the table half of a direction's next list
  logic [3:0]    wr_disp, wr_done; // write commands dispatched / landed (mod 16)
  logic          open;             // out of reset and err low: cmd_ may take words

  // The format checks on the word as it is taken (from the port into flip-flops), so that the
  // dispatch and the table write decide on registered flags only.
  // fields: [63] read, [62] block-major, [61] listed, [60] round to odd (a write of a NARROW buffer),
  // [53:48] first beat, [45:40] beats - 1, [26:16] base, [10:0] rows; every other bit 0
  localparam logic [63:0] FIELDS = {4'b1111, 6'b0, 6'h3f, 2'b0, 6'h3f, 13'b0, 11'h7ff, 5'b0, 11'h7ff};
  wire [KW-1:0] c_n    = cmd_TDATA[10:0];
  wire [10:0]   c_base = cmd_TDATA[26:16];
  wire          c_bad  = (cmd_TDATA & ~FIELDS) != '0 || c_n == '0 || 32'(c_n) > ROWS
                       || (cmd_TDATA[60] && (cmd_TDATA[63] || !NARROW))
                       || 32'(cmd_TDATA[53:48]) + 32'(cmd_TDATA[45:40]) >= NB
                       || (cmd_TDATA[61] ? c_base != '0 : 32'(c_base) + 32'(c_n) > ROWS);
  wire          h_d = h_w[63];
  wire          dispatch = h_v && !listing && !pend_v[h_d] && !err;

  // A list word is checked in the cycle after it is taken (lw_bad, from its registered bits; from the
  // port it took 3.73 ns on tiny): err and the closing of cmd_ follow a cycle later, so at most one
  // more word is taken after a bad list word. cmd_TREADY: flip-flops only.
  wire   lw_bad = lw_hi || 32'(lw_word) >= ROWS;
  assign cmd_TREADY = open && (listing || !h_v);
  wire   take_cmd  = cmd_TREADY && cmd_TVALID;

  logic [1:0] launch, run_v, s1_v, s2_v, s2_last;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [1:0] issue;               // the write direction's is w_valid && w_ready
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] s2_addr [2];
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      open <= 1'b0;
      h_v <= 1'b0;
      listing <= 1'b0;
      lw_v <= 1'b0;
      pend_v <= '0;
      pend_rdy <= '0;
      half_next <= '0;
      wr_disp <= '0;
      err <= 1'b0;
    end else begin
      open <= !err && !(dispatch && h_bad) && !(lw_v && lw_bad);
      if (take_cmd && !listing) h_v <= 1'b1;
      if (dispatch) begin
        h_v <= 1'b0;
        if (h_bad) begin
          err <= 1'b1;
        end else begin
          if (h_w[61]) listing <= 1'b1;
          if (!h_d) wr_disp <= wr_disp + 1'b1;
        end
      end
      for (int d = 0; d < 2; d++)      // per direction, enables from flip-flops (two LUT levels)
        if (dispatch && !h_bad && h_d == 1'(d)) begin
          pend_v[d] <= 1'b1;
          pend_rdy[d] <= !h_w[61];
          if (h_w[61]) half_next[d] <= !half_next[d];
        end
      lw_v <= take_cmd && listing;
      if (take_cmd && listing && list_left == '0) listing <= 1'b0;
      if (lw_v && lw_bad) begin
        err <= 1'b1;
        listing <= 1'b0;
      end
      if (lw_v && lw_last && !lw_bad) pend_rdy[lw_d] <= 1'b1;
      for (int d = 0; d < 2; d++)
        if (launch[d]) pend_v[d] <= 1'b0;
    end
    // the data registers (no reset; their valid flags above): the word as it is taken, the pending
    // command as it is dispatched (an enable per direction from flip-flops: two LUT levels)
    if (take_cmd && !listing) begin
      h_w <= cmd_TDATA;
      h_bad <= c_bad;
      h_n_m1 <= c_n - 1'b1;
    end
    for (int d = 0; d < 2; d++)
      if (dispatch && !h_bad && h_d == 1'(d))
        pend[d] <= '{blk: h_w[62], lst: h_w[61], odd: h_w[60], first: h_w[53:48], nb_m1: h_w[45:40], base: RW'(h_w[26:16]),
                     n_m1: h_n_m1, half: half_next[d], tag: wr_disp};
    // the list counters: loaded by a dispatch, stepped by each list word taken
    if (dispatch) begin
      list_d <= h_d;
      list_k <= '0;
      list_left <= h_n_m1;
    end else if (take_cmd && listing) begin
      list_k <= list_k + 1'b1;
      list_left <= list_left - 1'b1;
    end
    lw_hi <= cmd_TDATA[63:16] != '0;
    lw_word <= cmd_TDATA[15:0];
    lw_last <= list_left == '0;
    lw_d <= list_d;
    lw_k <= RW'(list_k);
  end

  // ---- the two directions: d = 0 writes (wr_), d = 1 reads (-> the output FIFO)
  logic [4:0] credit;              // free output FIFO entries not reserved by a read in flight
  logic       credit_ok;
  wire signed [3:0] fence_gap = $signed(wr_done - pend[1].tag);
  // the write port, through the optional register slice
  logic [L*ACT_W-1:0] w_data;
  logic               w_valid;
  wire                w_ready = run_v[0];
  if (WR_SLICE) begin : g_wr_slice
    // FREE_LOAD: the slice's data registers load whenever its output slot is free, so wr_TVALID (in a top,
    // a route flag and the engine's y_ valid: 4 LUT from the backbone's `gate` flag to the logits buffer's
    // 512 data enables, 3.47 ns on edge_moe) reaches no data enable; the data is used only with w_valid
    axis_skid #(.WIDTH(L * ACT_W), .FREE_LOAD(1'b1)) u_wr (
        .clk, .rst_n, .s_axis_tdata(wr_TDATA), .s_axis_tvalid(wr_TVALID), .s_axis_tready(wr_TREADY),
        .m_axis_tdata(w_data), .m_axis_tvalid(w_valid), .m_axis_tready(w_ready));
  end else begin : g_wr_direct
    assign w_data    = wr_TDATA;
    assign w_valid   = wr_TVALID;
    assign wr_TREADY = w_ready;
  end
  for (genvar d = 0; d < 2; d++) begin : g_seq
    act_buffer_seq #(.NB(NB), .RW(RW), .AW(AW)) u_seq (
        .clk, .rst_n,
        .pend_v(pend_v[d]), .pend_rdy(pend_rdy[d]), .allow(d == 0 || fence_gap >= 0),
        .pend_blk(pend[d].blk), .pend_lst(pend[d].lst), .pend_first(pend[d].first), .pend_nb_m1(pend[d].nb_m1),
        .pend_base(pend[d].base),
        .pend_n_m1(pend[d].n_m1), .pend_half(pend[d].half), .launch(launch[d]),
        .tab_we(lw_v && !lw_bad && lw_d == d), .tab_half(pend[d].half), .tab_k(lw_k), .tab_row(RW'(lw_word)),
        .go(d == 0 ? w_valid : credit_ok), .run_v(run_v[d]), .issue(issue[d]), .s1_v(s1_v[d]),
        .s2_v(s2_v[d]), .s2_last(s2_last[d]), .s2_addr(s2_addr[d]));
  end

  // ---- write data: two stages beside S1 / S2
  logic [L*SW-1:0] wd2;
  if (NARROW) begin : g_narrow
    // round half up at the operand's LSB (or to odd: the running write command's flag, which the beat
    // in this cycle belongs to: a command launches in its predecessor's last beat cycle), then shift
    // and saturate symmetrically (rtl/src/operand_round.sv)
    logic run_odd;
    always_ff @(posedge clk)
      if (launch[0]) run_odd <= pend[0].odd;
    operand_round #(.L(L)) u_round (.clk, .x(w_data), .zero('0), .odd(run_odd), .y(wd2));
  end else begin : g_wide
    logic [L*SW-1:0] wd1;
    always_ff @(posedge clk) begin
      wd1 <= w_data;
      wd2 <= wd1;
    end
  end

  // ---- the memory: written at the write sequencer's S2, read at the read sequencer's S2
  logic [L*SW-1:0] rd_word;
  act_ram #(.WIDTH(L * SW), .DEPTH(DEPTH), .AW(AW)) u_ram (
      .clk, .we(s2_v[0]), .wr_addr(s2_addr[0]), .wr_data(wd2),
      .rd_addr(s2_addr[1]), .rd_data(rd_word));

  always_ff @(posedge clk) begin
    if (!rst_n) wr_done <= '0;
    else if (s2_v[0] && s2_last[0]) wr_done <= wr_done + 1'b1;
  end

  // ---- reads: the memory's two registers, then the FIFO (stored width; act lanes on the way out)
  logic v3, v4, l3, l4;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v3 <= 1'b0;
      v4 <= 1'b0;
    end else begin
      v3 <= s2_v[1];
      v4 <= v3;
    end
    l3 <= s2_last[1];
    l4 <= l3;
  end
  logic              freed;
  logic [L*SW:0]     fifo_out;
  axis_fifo #(.WIDTH(L * SW + 1), .DEPTH(FIFO_DEPTH)) u_out (
      .clk, .rst_n, .s_axis_tdata({l4, rd_word}), .s_axis_tvalid(v4),
      .m_axis_tdata(fifo_out), .m_axis_tvalid(rd_TVALID), .m_axis_tready(rd_TREADY), .freed);
  assign rd_TLAST = fifo_out[L*SW];
  for (genvar i = 0; i < L; i++) begin : g_lane
    if (NARROW) begin : g_expand
      // the operand as the act value it is: sign bits above, SH zero bits below
      assign rd_TDATA[i*ACT_W +: ACT_W] = ACT_W'({{(ACT_W - SW - SH){fifo_out[i*SW + SW - 1]}}, fifo_out[i*SW +: SW], SH'(0)});
    end else begin : g_as_is
      assign rd_TDATA[i*ACT_W +: ACT_W] = fifo_out[i*SW +: SW];
    end
  end

  // credits: a read issues only with a FIFO entry free for it (reserved until the FIFO frees it)
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      credit <= 5'(FIFO_DEPTH);
      credit_ok <= 1'b1;
    end else begin
      credit <= credit - 5'(issue[1]) + 5'(freed);
      credit_ok <= credit - 5'(issue[1]) + 5'(freed) != '0;
    end
  end

  // (credit == FIFO_DEPTH: no read in flight and none in the FIFO's memory; rd_TVALID: its output slice)
  assign idle = !h_v && !listing && !lw_v && pend_v == '0 && run_v == '0 && s1_v == '0 && s2_v == '0
              && credit == 5'(FIFO_DEPTH) && !rd_TVALID;

`ifndef SYNTHESIS
  // Write-after-read check: every command gets a number in dispatch order; an entry read by command s
  // must not hold the data of a write command numbered after s (that write overtook the read).
  int seq_next;
  int pend_seq [2], run_seq [2], s1_seq [2], s2_seq [2];
  int wseq [DEPTH];
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      seq_next <= 0;
      for (int e = 0; e < DEPTH; e++) wseq[e] <= -1;
    end else begin
      if (dispatch && !h_bad) begin
        pend_seq[h_d] <= seq_next;
        seq_next <= seq_next + 1;
      end
      for (int d = 0; d < 2; d++) begin
        if (launch[d]) run_seq[d] <= pend_seq[d];
        s1_seq[d] <= run_seq[d];
        s2_seq[d] <= s1_seq[d];
      end
      if (s2_v[0]) wseq[s2_addr[0]] <= s2_seq[0];
      if (s2_v[1] && int'(s2_addr[1]) < DEPTH && wseq[s2_addr[1]] > s2_seq[1])
        $error("act_buffer: entry %0d read by command %0d after command %0d overwrote it (a write overtook a read)",
               s2_addr[1], s2_seq[1], wseq[s2_addr[1]]);
      if (s2_v[1] && int'(s2_addr[1]) >= DEPTH)
        $error("act_buffer: read address %0d past the %0d entries", s2_addr[1], DEPTH);
    end
  end
`endif
endmodule

`default_nettype wire
