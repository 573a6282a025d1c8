// GELU unit, LANES values per AXI-Stream beat, bit-exact to python_ref.kernels.gelu.gelu_raw.
//
//   GELU(x) = ReLU(x) - delta(|x|),  delta(u) = T[k] + t * (T[k+1] - T[k])  (truncated to the table
//   format), k = the bits of |x| above weight 2^-S, t = the F-S bits below them as an unsigned
//   fraction, and delta = 0 for |x| >= table range. Constants come from the generated model_pkg.
//
// Ports follow Vitis HLS's naming of an hls::stream<ap_axiu<...>> port with ap_ctrl_none
// (void gelu_top(hls::stream<gelu_axis_t>& x, hls::stream<gelu_axis_t>& y)), so RTL exported by
// Vitis from hls/src/gelu.cpp drops into the same cocotb testbench. Lane i is
// TDATA[i*ACT_W +: ACT_W]; TLAST travels with its beat; x_TKEEP/x_TSTRB are ignored,
// y_TKEEP/y_TSTRB are all ones.
//
// Pipeline (one beat per cycle, every stage registered, one clock enable for the whole datapath):
//   S1  register the input beat
//   S2  a = |x| (ACT_W-bit unsigned: -(-2^(W-1)) does not wrap), relu, ROM address k = the bits of
//       a above t (not masked: outside the table the word read is ignored), t = a[TB-1:0];
//       in_table = |x| < RANGE * 2^TB compared on x itself (two constant compares, no carry
//       chain behind the absolute value)
//   S3  registered read of the ROM of {T[k+1]-T[k], T[k]} at k, both fields only as wide as the
//       table needs: its low 36 bits from one RAMB18 per lane (the latch; no output register), any
//       bits above them from a constant table in fabric (a register; one bit on the shipped tables)
//   S4  the word registered in fabric (the block RAM's clock-to-out stays apart from the multiply)
//   S5  p = t * (T[k+1]-T[k])   (TB-bit unsigned x (TW+1)-bit signed: one DSP48 multiply)
//   S6  delta = ((T[k] << TB) + p) >>> TB, i.e. floor = AP_TRN into the table format (DSP post-add)
//   S7  y = relu - (in_table ? delta << (F - TF) : 0), exact in the activation format
//   out axis_skid register slice: y_* are flip-flop outputs
// Latency: an input beat accepted at clock edge N (x_TVALID && x_TREADY) drives y_TVALID high
// right after edge N+7; with y_TREADY high it is taken at edge N+8 (8 cycles handshake to
// handshake, measured by cosim/test_gelu.py). Throughput: 1 beat/cycle.
//
// Flow control (rtl/src/axis_pipe_ctrl.sv): the datapath advances (ce) unless its last stage holds
// a beat the output slice cannot take. The slice's s_ready is a flip-flop, so x_TREADY is a
// function of flip-flops only (no combinational path from y_TREADY or x_TVALID to x_TREADY), and a
// stalled beat is held in place: nothing is lost or duplicated under any stall pattern.
`default_nettype none

// The pipeline depth as a package constant (as exp_core_pkg does for exp_core), so linear_out, which
// predicts this unit's x_TREADY a cycle early from a copy of its stage valids, sizes the copy from it.
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDPARAM */
package gelu_pkg;
  localparam int GELU_STAGES = 7;  // axis_pipe_ctrl stages: x -> v7 / y7
endpackage
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on DECLFILENAME */

module gelu
  import model_pkg::*;
#(
    parameter int LANES = GELU_LANES
) (
    input  logic                       ap_clk,
    input  logic                       ap_rst_n,   // synchronous, active low
    input  logic [LANES*ACT_W-1:0]     x_TDATA,
    input  logic                       x_TVALID,
    output logic                       x_TREADY,
    input  logic                       x_TLAST,
    input  logic [LANES*ACT_W/8-1:0]   x_TKEEP,    // ignored (present on Vitis ap_axiu ports)
    input  logic [LANES*ACT_W/8-1:0]   x_TSTRB,    // ignored
    output logic [LANES*ACT_W-1:0]     y_TDATA,
    output logic                       y_TVALID,
    input  logic                       y_TREADY,
    output logic                       y_TLAST,
    output logic [LANES*ACT_W/8-1:0]   y_TKEEP,
    output logic [LANES*ACT_W/8-1:0]   y_TSTRB
);
  localparam int W      = ACT_W;
  localparam int F      = ACT_W - ACT_I;               // activation fraction bits
  localparam int S      = GELU_STEP_LOG2;
  localparam int TB     = F - S;                       // bits of t
  localparam int TW     = GELU_TABLE_W;
  localparam int TF     = GELU_TABLE_W - GELU_TABLE_I; // table fraction bits
  localparam int RANGE  = GELU_RANGE_STEPS;            // |x| >= RANGE * 2^-S: delta = 0
  localparam int IDX_W  = $clog2(RANGE);
  localparam int TN     = delta_bits();                // bits of the largest T[k] (unsigned)
  localparam int DN     = diff_bits();                 // signed bits of every T[k+1] - T[k]
  localparam int ROM_W  = DN + TN;                     // {signed diff (DN), lo (TN)}
  localparam int BR_W   = ROM_W < 36 ? ROM_W : 36;     // the block RAM's part: a RAMB18E2's 36-bit read
  localparam int FX_W   = ROM_W - BR_W;                // the rest, a constant table in fabric
  localparam int P_W    = TB + TW + 2;                 // signed product t * diff, one spare bit
  localparam int KEEP_W = LANES * ACT_W / 8;
  localparam logic [W-1:0] LIM = W'(RANGE) << TB;      // |x| < LIM: in the table

  // ---- elaboration checks: the arithmetic below relies on these properties of the config
  if (GELU_TABLE_QUANT != 0) begin : g_chk_quant
    $error("gelu: table format must truncate (AP_TRN, code 0), got quantization code %0d", GELU_TABLE_QUANT);
  end
  if (GELU_TABLE_SIGNED != 0 || GELU_TABLE_I > 0) begin : g_chk_table_sign
    $error("gelu: the delta table must be unsigned with no integer bits (ap_ufixed<W,I<=0>)");
  end
  if (TF > F) begin : g_chk_frac
    $error("gelu: table fraction bits (%0d) exceed the activation fraction bits (%0d): y would round", TF, F);
  end
  if (ACT_SIGNED != 1 || (ACT_W % 8) != 0) begin : g_chk_act
    $error("gelu: the activation format must be signed and a whole number of bytes wide");
  end
  if (GELU_ENTRIES != RANGE + 1 || TB < 1 || TB + IDX_W > W - 1) begin : g_chk_geometry
    $error("gelu: inconsistent table geometry (entries %0d, range steps %0d, t bits %0d)",
           GELU_ENTRIES, RANGE, TB);
  end
  if (LANES < 1) begin : g_chk_lanes
    $error("gelu: LANES must be >= 1, got %0d", LANES);
  end

  // ---- ROM contents: word k holds {T[k+1] - T[k], T[k]}, so one read yields both nodes (words at
  // k >= RANGE are 0 and never used). Each lane reads its own copy (below): one read port per memory,
  // which synthesis maps to a block RAM. As LUT logic (four 64-word banks, one LUT6 per bit, and a
  // 4:1 bank choice in S4), ABC's area recovery rebuilt a bank bit as a chain of 5-6 LUT inside the
  // large engines (2.92-3.41 ns on edge_moe, depending on the netlist around it); a block RAM's read
  // is a fixed clock-to-out. Yosys maps no ROM to distributed RAM, and none with several read ports.
  // Both fields are stored only as wide as the table needs (T < 2^-2 and -2^-6 < diff < 2^-6 on the
  // shipped tables: 20 + 17 bits), not at TW and TW + 1 (45 bits, a RAMB36E2 per lane): a RAMB18E2
  // reads at most 36 bits, so the word's bits above 36 (the diff's sign here) come from fabric, an
  // 8-input function of k per bit, registered beside the block RAM's latch. Half the block RAM.
  function automatic int delta_bits();
    int n = 1;
    for (int k = 0; k < GELU_ENTRIES; k++)
      while (n < TW && (GELU_DELTA_TABLE[k] >> n) != 0) n++;
    return n;
  endfunction
  function automatic int diff_bits();
    int n = 2;
    for (int k = 0; k < RANGE; k++) begin
      int d = int'(GELU_DELTA_TABLE[k+1]) - int'(GELU_DELTA_TABLE[k]);
      while (n < TW + 1 && (d >= (1 << (n - 1)) || d < -(1 << (n - 1)))) n++;
    end
    return n;
  endfunction
  function automatic logic [ROM_W-1:0] rom_word(input int k);
    return k < RANGE ? {DN'(GELU_DELTA_TABLE[k+1]) - DN'(GELU_DELTA_TABLE[k]), TN'(GELU_DELTA_TABLE[k])} : '0;
  endfunction
  // the fabric part of every word, FX_TAB[k * FXV_W +: FXV_W] (FX_W > 0 only; a 1-bit dummy
  // otherwise): a constant vector, so that its read at k2 is a multiplexer on constants (an 8-input
  // function per bit), not the table lookups and subtraction of rom_word
  localparam int FXV_W = FX_W > 0 ? FX_W : 1;
  function automatic logic [(FXV_W << IDX_W)-1:0] fx_table();
    logic [(FXV_W << IDX_W)-1:0] t = '0;
    for (int k = 0; k < (1 << IDX_W); k++) begin
      logic [ROM_W:0] w = {1'b0, rom_word(k)};
      t[k*FXV_W +: FXV_W] = FXV_W'(w >> BR_W);
    end
    return t;
  endfunction
  localparam logic [(FXV_W << IDX_W)-1:0] FX_TAB = fx_table();

  // ---- flow control
  logic ce, v7, l7, out_s_ready;
  axis_pipe_ctrl #(.STAGES(gelu_pkg::GELU_STAGES)) u_ctrl (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tvalid(x_TVALID), .s_axis_tlast(x_TLAST), .s_axis_tready(x_TREADY),
      .ce(ce), .m_axis_tvalid(v7), .m_axis_tlast(l7), .m_axis_tready(out_s_ready));

  // ---- datapath, one instance per lane
  logic [LANES*W-1:0] y7;

  for (genvar i = 0; i < LANES; i++) begin : g_lane
    logic signed [W-1:0]    x1;
    logic        [W-1:0]    relu2, relu3, relu4, relu5, relu6;
    logic        [TB-1:0]   t2, t3, t4;
    logic        [IDX_W-1:0] k2;
    logic                   in2, in3, in4, in5, in6;
    logic        [BR_W-1:0] rom3;
    (* rom_style = "block" *) logic [BR_W-1:0] rom [1 << IDX_W];
    initial for (int k = 0; k < (1 << IDX_W); k++) rom[k] = BR_W'(rom_word(k));
    logic        [ROM_W-1:0] rom4;
    logic        [ROM_W-1:0] rom3_w;   // the word read: the block RAM's bits and the fabric's above them
    logic signed [P_W-1:0]  p5;
    logic        [TW-1:0]   lo5, delta6;
    logic        [W-1:0]    y;

    // S2 combinational: |x| and the table index
    logic [W-1:0] a;
    logic         in_table;
    assign a        = x1[W-1] ? -x1 : x1;  // -(-2^(W-1)) = 2^(W-1) as unsigned: no wrap
    // |x| < LIM without |x|: x < LIM for x >= 0, x > -LIM for x < 0 (LIM < 2^(W-1))
    assign in_table = x1[W-1] ? ($signed(x1) > -$signed(LIM)) : (x1 < LIM);
    wire unused_a = &{1'b0, a[W-1:TB+IDX_W]};   // above the table index: only in_table needs them

    // S4/S5 combinational: the product and the exact sum before truncation
    // Both factors widened to P_W first: a Verilog product is only as wide as its operands.
    logic signed [DN-1:0]  diff4;
    logic signed [P_W-1:0] t4_w, diff4_w;
    // delta = sum[TB +: TW]: the low TB bits are what AP_TRN drops, the top bits are 0
    /* verilator lint_off UNUSEDSIGNAL */
    logic signed [P_W-1:0] sum;
    /* verilator lint_on UNUSEDSIGNAL */
    assign diff4   = $signed(rom4[ROM_W-1 -: DN]);
    assign t4_w    = $signed(P_W'(t4));
    assign diff4_w = P_W'(diff4);
    assign sum     = (P_W'(lo5) << TB) + p5;

    always_ff @(posedge ap_clk) begin
      if (ce) begin
        // S1
        x1     <= x_TDATA[i*W +: W];
        // S2
        relu2  <= x1[W-1] ? '0 : x1;
        t2     <= a[TB-1:0];
        k2     <= a[TB +: IDX_W];
        in2    <= in_table;
        // S3: the ROM read (the block RAM's latch, enabled by ce like every stage)
        rom3   <= rom[k2];
        t3     <= t2;
        relu3  <= relu2;
        in3    <= in2;
        // S4
        rom4   <= rom3_w;
        t4     <= in3 ? t3 : '0;   // masked (delta is unused outside the table): a flip-flop, not an SRL, before the DSP
        relu4  <= relu3;
        in4    <= in3;
        // S5
        p5     <= t4_w * diff4_w;
        lo5    <= TW'(rom4[TN-1:0]);
        relu5  <= relu4;
        in5    <= in4;
        // S6: sum >= 0 (it lies between T[k] and T[k+1] scaled), so the slice is the floor
        delta6 <= sum[TB +: TW];
        relu6  <= relu5;
        in6    <= in5;
        // S7
        y      <= relu6 - (in6 ? (W'(delta6) << (F - TF)) : '0);
      end
    end
    assign y7[i*W +: W] = y;

    if (FX_W > 0) begin : g_fx
      // the word's top FX_W bits: a constant table in fabric, read through a register as the block
      // RAM's (S3, enabled by ce)
      logic [FX_W-1:0] fx3;
      always_ff @(posedge ap_clk) begin
        if (ce) fx3 <= FX_TAB[k2 * FXV_W +: FXV_W];
      end
      assign rom3_w = {fx3, rom3};
    end else begin : g_no_fx
      assign rom3_w = rom3;
    end
  end

  // ---- output register slice
  axis_skid #(.WIDTH(LANES * W + 1)) u_out (
      .clk    (ap_clk),
      .rst_n  (ap_rst_n),
      .s_axis_tdata ({l7, y7}),
      .s_axis_tvalid(v7),
      .s_axis_tready(out_s_ready),
      .m_axis_tdata ({y_TLAST, y_TDATA}),
      .m_axis_tvalid(y_TVALID),
      .m_axis_tready(y_TREADY)
  );

  assign y_TKEEP = {KEEP_W{1'b1}};
  assign y_TSTRB = {KEEP_W{1'b1}};

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB};
endmodule

`default_nettype wire
