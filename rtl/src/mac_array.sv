// The unified MAC array: LI x LO multiply-accumulate cells, ONE DSP48E2 per cell, shared by the
// linear engine (rtl/src/linear.sv) and the attention unit (QK^T, AV: python_ref.kernels.attention).
//
// Cell (i, o) holds a small store of stationary operands (BW-bit signed, the DSP's 18-bit B port;
// DEPTH entries, distributed RAM) and multiplies the row's activation (AW-bit signed, the 27-bit A
// port) by the entry the step selects. Column o sums its LI products in the DSP48E2 P cascade
// (PCIN, 48 bits) and then adds the cascade result into a wide fabric accumulator (ACC_W bits):
//
//   chain[o] = c[o] + sum_i a[i] * store[i][o][addr]            (48-bit two's complement)
//   acc[o]   = (first ? 0 : acc[o]) + (shift ? chain[o] << SHIFT : chain[o])
//
// One step per cycle at most (in_valid), no backpressure: a step's results appear a fixed LATENCY
// later, so the driver reserves room for them before it issues (credits). Steps without in_valid
// are bubbles: they change nothing.
//
// Exactness. The cascade is exact while every partial sum of a step fits 48 bits signed
// (python_ref/kernels/attention.py proves it for the hi / lo split at LI <= 32); the accumulator
// is exact while the whole sum fits ACC_W bits. The linear engine's full-range weights (|w| <=
// 2^17 on the 18-bit port) can exceed 2^47 in a 32-product step; the cascade then wraps modulo
// 2^48, which is harmless there: its output keeps only the sum modulo 2^44 (act's WRAP after the
// 12-bit rounding shift), and every stage is exact modulo 2^48.
//
// Systolic timing (edges counted from the edge that samples a step's inputs, edge 1):
//   row i: A skew i+1 fabric registers, then AREG at edge 2+i; the stationary read address is
//          delayed i cycles, the distributed-RAM output registered at edge 1+i, then BREG at 2+i;
//          MREG at 3+i, PREG at 4+i: P(i) = P(i-1) (PCIN) + M(i). Row 0 adds C (CREG at edge 3).
//   column result after the PREG of row LI-1 (edge LI+3), accumulator at edge LI+4.
// So out_valid is high in the cycle after edge LI + 4, i.e. LATENCY = LI + 3 edges after the edge
// that sampled a step with in_last; out_acc holds the column sums in that cycle only (the next
// step's result may replace them).
//
// Interface for a driver (the linear engine, the attention unit):
//   ld_valid, ld_addr, ld_row[LI], ld_col[LO], ld_data[LI*LO*BW]: writes ld_data's cell (i, o)
//       value (bits [(i*LO+o)*BW +: BW]) into store[i][o][ld_addr] for every i with ld_row[i] and o
//       with ld_col[o] (e.g. a weight row segment: one column, several rows, the values replicated
//       across columns; a V row: one row, every column). Writes take effect for steps sampled one
//       edge later or more. Drive these from registers (no input register here).
//   in_valid, in_first, in_last, in_shift, in_addr, in_a[LI*AW], in_c[LO*PW]: one step. in_first
//       starts a new accumulation, in_last emits it, in_shift adds the step's cascade result
//       shifted left by SHIFT (the hi part of a split stationary operand), in_addr selects the
//       store entry (the driver's ping-pong banks are address bits), in_a the activations of the
//       LI rows (unskewed: the array skews them), in_c one value per column added into the cascade
//       (e.g. the bias on a first step, else 0). Drive these from registers.
//       in_user is carried unchanged to the step's result (out_user), e.g. TLAST / block flags.
//   out_valid, out_acc[LO*ACC_W], out_user: the accumulator of every column after a step with
//       in_last, and that step's in_user.
`default_nettype none

module mac_array #(
    parameter int LI = 4,          // rows: activations per step (cascade length)
    parameter int LO = 4,          // columns: outputs per step
    parameter int AW = 27,         // activation operand (DSP48E2 A port, signed)
    parameter int BW = 18,         // stationary operand (DSP48E2 B port, signed)
    parameter int PW = 48,         // P cascade
    parameter int ACC_W = 64,      // fabric accumulator (>= 56: attention's exact sums need 59)
    parameter int SHIFT = 10,      // the hi step's shift (python_ref.kernels.attention.SPLIT_LO_BITS)
    parameter int DEPTH = 8,       // stationary entries per cell
    parameter int UW = 1,          // user sideband bits carried from a step to its result
    localparam int DAW = DEPTH > 1 ? $clog2(DEPTH) : 1
) (
    input  logic                   clk,
    input  logic                   rst_n,      // synchronous, active low (control only)
    input  logic                   ld_valid,
    input  logic [DAW-1:0]         ld_addr,
    input  logic [LI-1:0]          ld_row,
    input  logic [LO-1:0]          ld_col,
    input  logic [LI*LO*BW-1:0]    ld_data,
    input  logic                   in_valid,
    input  logic                   in_first,
    input  logic                   in_last,
    input  logic                   in_shift,
    input  logic [DAW-1:0]         in_addr,
    input  logic [LI*AW-1:0]       in_a,
    input  logic [LO*PW-1:0]       in_c,
    input  logic [UW-1:0]          in_user,
    output logic                   out_valid,
    output logic [LO*ACC_W-1:0]    out_acc,
    output logic [UW-1:0]          out_user
);

  if (LI < 1 || LO < 1 || AW > 27 || BW > 18 || PW != 48 || ACC_W < PW + SHIFT || DEPTH < 1) begin : g_chk
    $error("mac_array: bad geometry LI %0d LO %0d AW %0d BW %0d PW %0d ACC_W %0d DEPTH %0d", LI, LO, AW, BW, PW,
           ACC_W, DEPTH);
  end

  // ---- controls ride along to the accumulator (LI + 3 stages)
  // v_d[k] holds a step's controls after edge k + 1; the accumulator reads them after edge LI + 3
  localparam int CD = LI + 3;
  localparam int A_FAN = 8;       // DSP48E2 per copy of a row's activation register (below)
  logic [CD-1:0] v_d, first_d, last_d, shift_d;
  logic [UW-1:0] user_d [CD];
  // first_d / last_d / shift_d reset like v_d: a synchronous reset keeps them flip-flops (an SRL16E's
  // clock-to-out would start the accumulator's path)
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v_d     <= '0;
      first_d <= '0;
      last_d  <= '0;
      shift_d <= '0;
    end else begin
      v_d     <= CD'({v_d, in_valid});
      first_d <= CD'({first_d, in_first});
      last_d  <= CD'({last_d, in_last});
      shift_d <= CD'({shift_d, in_shift});
    end
    user_d[0] <= in_user;
    for (int s = 1; s < CD; s++) user_d[s] <= user_d[s-1];
  end

  // ---- skew: row i sees the step's activations and store address i cycles late
  // Packed vectors, not unpacked arrays: Yosys's slang front end turns an unpacked array of
  // registers into a memory, and the DSP48E2 packing (xilinx_dsp) only absorbs plain flip-flops.
  logic [LI*AW-1:0] a_skew;         // activation of row i ([i*AW +: AW]), one cycle before its AREG
  logic [DAW-1:0] addr_d [LI];      // store address of row i (addr_d[0] = in_addr)
  assign addr_d[0] = in_addr;
  for (genvar i = 0; i < LI; i++) begin : g_skew
    logic [(i+1)*AW-1:0] a_pipe;    // i+1 fabric stages (stage s at [s*AW +: AW])
    always_ff @(posedge clk) begin
      a_pipe[0 +: AW] <= in_a[i*AW +: AW];
      for (int s = 1; s <= i; s++) a_pipe[s*AW +: AW] <= a_pipe[(s-1)*AW +: AW];
    end
    assign a_skew[i*AW +: AW] = a_pipe[i*AW +: AW];
    if (i > 0) begin : g_addr
      always_ff @(posedge clk) addr_d[i] <= addr_d[i-1];
    end
  end

  // ---- C (row 0 of every column): two fabric stages, then CREG (edge 3)
  logic [LO*PW-1:0] c_d1, c_d2;
  always_ff @(posedge clk) begin
    c_d1 <= in_c;
    c_d2 <= c_d1;
  end

  // ---- the cells (P of cell (i, o) at p_bus[(i*LO + o)*PW +: PW]; per-cell registers, see the skew)
  logic [LI*LO*PW-1:0] p_bus;
  for (genvar i = 0; i < LI; i++) begin : g_row
    // The row's activation register (the DSP's A input), one copy per A_FAN columns. Equal registers
    // are merged by synthesis (per-cell ones became one per row, driving all LO DSP48E2: on the 32-wide
    // array 0.25 ns of fan-out, the attention unit's 3.01 ns path; docs/timing.md); keep stops the merge
    // of the copies. Loaded only for a valid step (v_d[i] pairs with a_skew[i]): the enable keeps them
    // flip-flops (not the tail of an SRL16E with the skew stages; Yosys does not pack DSP48E2 registers).
    // (Separate variables: the copies as elements of one array become a memory, whose flip-flops lose
    // the attribute and merge again.)
    for (genvar c = 0; c < (LO + A_FAN - 1) / A_FAN; c++) begin : g_acopy
      (* keep *) logic signed [AW-1:0] a_r;
      (* keep *) always_ff @(posedge clk) if (v_d[i]) a_r <= $signed(a_skew[i*AW +: AW]);
    end
    for (genvar o = 0; o < LO; o++) begin : g_col
      // stationary store: distributed RAM, asynchronous read, registered output
      logic [BW-1:0] store [DEPTH];
      logic [BW-1:0] rd;
      always_ff @(posedge clk) begin
        if (ld_valid && ld_row[i] && ld_col[o]) store[ld_addr] <= ld_data[(i*LO + o)*BW +: BW];
        rd <= store[addr_d[i]];
      end
      // DSP48E2: AREG, BREG, MREG, PREG (and CREG on row 0); P = PCIN (or C) + A * B
      logic signed [BW-1:0]    b_r;
      logic signed [AW+BW-1:0] m_r;
      logic signed [PW-1:0]    add_in;
      logic signed [PW-1:0]    p_r;
      if (i == 0) begin : g_c
        logic signed [PW-1:0] c_r;
        always_ff @(posedge clk) c_r <= c_d2[o*PW +: PW];
        assign add_in = c_r;
      end else begin : g_pcin
        assign add_in = $signed(p_bus[((i-1)*LO + o)*PW +: PW]);
      end
      always_ff @(posedge clk) begin
        b_r <= rd;
        m_r <= g_acopy[o / A_FAN].a_r * b_r;
        p_r <= add_in + PW'(m_r);
      end
      assign p_bus[(i*LO + o)*PW +: PW] = p_r;
    end
  end

  wire step_v = v_d[CD-1];
  wire step_f = first_d[CD-1];
  wire step_l = last_d[CD-1];
  wire step_s = shift_d[CD-1];

  // ---- fabric accumulators (edge LI + 4)
  for (genvar o = 0; o < LO; o++) begin : g_acc
    logic signed [ACC_W-1:0] acc;
    wire signed [ACC_W-1:0] chain  = ACC_W'($signed(p_bus[((LI-1)*LO + o)*PW +: PW]));
    wire signed [ACC_W-1:0] addend = step_s ? chain <<< SHIFT : chain;
    always_ff @(posedge clk) begin
      if (step_v) acc <= (step_f ? '0 : acc) + addend;
    end
    assign out_acc[o*ACC_W +: ACC_W] = acc;
  end
  always_ff @(posedge clk) begin
    if (!rst_n) out_valid <= 1'b0;
    else out_valid <= step_v && step_l;
    if (step_v && step_l) out_user <= user_d[CD-1];
  end
endmodule

`default_nettype wire
