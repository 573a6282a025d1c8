// The linear engine without its MAC array (rtl/src/linear.sv = linear_core + mac_array; the shared
// array of rtl/src/linear_attention.sv drives one mac_array from this core or attention_core): the
// ports ld_* / in_* / out_* are the mac_array driver interface (rtl/src/mac_array.sv), every in_* and
// ld_* output a register, the array's parameters AW = OPERAND_W, BW = LINEAR_W_W, PW = 48,
// ACC_W = 64, DEPTH = 2 << IBW, UW = 4, in_shift always 0.
//
// Unified compute unit (the linear engine), bit-exact to python_ref.kernels.linear.compute_linear
// with numerics.linear_sum = exact:
//
//   y[k][o] = act( b[o] + sum_i operand(x[k][i]) * W[o][i] )    exact sum, one rounding per output
//   store: out = y;  accumulate: out = act(prev + y);  scaled: out = act(prev + act(score * y))
//   optional GELU on y (gelu.sv); operand() = formats.operand (RND, SAT_SYM), 27-bit A port;
//   W in linear_w_t (18-bit B port, holds weight_t and patch_weight_t exactly); b aligned exactly.
//
// Modules (the data flows top to bottom):
//   linear_loader  w_, b_ -> the array's stationary store (ping-pong banks) and the bias bank
//   linear_act     x_ -> operand format -> activation buffer (the whole call's rows, block RAM)
//   linear_issue   one LI x LO step per cycle: (output block, row, in-block) order
//   mac_array      LI x LO DSP48E2 cells, 48-bit P cascades, 64-bit fabric accumulators
//   linear_out     act rounding (a bit slice), FIFO, GELU, acc_ / s_ join, score multiply, add, y_
//
// Schedule (Edge-MoE's weight-stationary order): for each output block ob (LO outputs), for every
// processed row k, for every in-block ib: one step. The rows arrive once on x_ (during block 0) and
// stay in the activation buffer for the later blocks; block ob+1 loads into the other bank while
// block ob computes. Output beats come out block-major, (ob, k) ascending, one beat of LO values.
//
// Control (Vitis ap_ctrl_hs style): ap_start latches the scalar arguments in_dim (1 .. MAX_IN),
// out_dim (>= 1), rows (1 .. MAX_ROWS), w_kind (0 weight_t, 1 patch_weight_t), b_kind (0 bias_t,
// 1 attn_bias_t), use_gelu, mode (0 store, 1 accumulate, 2 scaled accumulate) at an edge where the
// loader is free (it finished the previous call's last block) and no taken call waits; ap_ready pulses
// in the cycle after that edge (the host may then present the next call and hold ap_start). The
// loader loads the next call's blocks into free banks while the current call computes; act / issue /
// out take it when the current call is done, so its x_ beats are taken only once the activation buffer
// is free. ap_done pulses once per call, in call order, in the cycle after its last output beat;
// ap_idle is high when no call is in flight. The host checks the arguments (cosim/test_linear.py
// raises a clear error); the engine has no in-band error.
//
// Streams (AXI-Stream; inputs' TLAST ignored, the engine counts; every TREADY is a flip-flop: each
// input passes a register slice):
//   w_   the weight matrix exactly as in memory (pack_matrix_axi with W_BITS-bit words, default
//        AXI_WIDTH): W[out][in] row-major, E = W_BITS / 16 weights per word, rows padded to whole
//        words, front to back once per call.
//   b_   the bias vector exactly as in memory (pack_vector_axi), front to back once per call.
//   x_   LI act values per beat: for k in processing order (the gather list), the row's
//        ceil(in/LI) blocks; lanes past in_dim are ignored. Patch embedding: pixels converted to act.
//   acc_ (mode 1, 2) LO values per beat, the previous out[t] block for each (ob, k), t = scatter[k],
//        in the output order; lanes past out_dim ignored. Targets must be distinct within a call.
//   s_   (mode 2) one score (act) per processed row, k ascending, consumed during block 0 and kept
//        on chip (MAX_ROWS entries) for the later blocks.
//   y_   LO values per beat, (ob, k) ascending, lanes past out_dim 0; TLAST on the last row of
//        every output block.
//
// Cycles without stalls: cosim/linear_schedule.py models the schedule exactly (predicted_cycles: one
// call; Sequence: calls back to back or with gaps); cosim/test_linear.py checks both on every
// unstalled call, also with a throttled weight stream.
`default_nettype none

module linear_core
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,           // a power of two
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,    // activation buffer: widest input, most rows
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int FIFO_DEPTH = 1 << $clog2(LI + 16),  // output FIFO: covers the credit loop, so an
                                                       // unstalled sink never throttles the issue
    parameter int W_BITS = LINEAR_W_BITS,    // w_ word (hardware.weight_word.bits)
    parameter int W_ROWS = LINEAR_W_ROWS,    // rows per w_ word: 1 row-major, 2 row pairs (linear_loader)
    parameter bit WB_FREE_LOAD = 1'b0,       // the w_ / b_ slices load on a free slot (axis_skid FREE_LOAD)
    // the array geometry this core drives (not parameters: derived)
    localparam int MAX_IB = (MAX_IN + LI - 1) / LI,
    localparam int IBW    = MAX_IB > 1 ? $clog2(MAX_IB) : 1   // store entries {bank, in-block}: 2 << IBW
) (
    input  logic                      ap_clk,
    input  logic                      ap_rst_n,   // synchronous, active low
    input  logic                      ap_start,
    output logic                      ap_done,
    output logic                      ap_idle,
    output logic                      ap_ready,
    input  logic [15:0]               in_dim,
    input  logic [15:0]               out_dim,
    input  logic [15:0]               rows,
    input  logic                      w_kind,
    input  logic                      b_kind,
    input  logic                      use_gelu,
    input  logic [1:0]                mode,
    input  logic [LI*ACT_W-1:0]       x_TDATA,
    input  logic                      x_TVALID,
    output logic                      x_TREADY,
    input  logic                      x_TLAST,
    input  logic [W_BITS-1:0]         w_TDATA,
    input  logic                      w_TVALID,
    output logic                      w_TREADY,
    input  logic                      w_TLAST,
    input  logic [AXI_WIDTH-1:0]      b_TDATA,
    input  logic                      b_TVALID,
    output logic                      b_TREADY,
    input  logic                      b_TLAST,
    input  logic [LO*ACT_W-1:0]       acc_TDATA,
    input  logic                      acc_TVALID,
    output logic                      acc_TREADY,
    input  logic                      acc_TLAST,
    input  logic [ACT_W-1:0]          s_TDATA,
    input  logic                      s_TVALID,
    output logic                      s_TREADY,
    input  logic                      s_TLAST,
    output logic [LO*ACT_W-1:0]       y_TDATA,
    output logic                      y_TVALID,
    input  logic                      y_TREADY,
    output logic                      y_TLAST,
    // mac_array driver ports (rtl/src/mac_array.sv), registers; results back
    output logic                      ld_valid,
    output logic [IBW:0]              ld_addr,
    output logic [LI-1:0]             ld_row,
    output logic [LO-1:0]             ld_col,
    output logic [LI*LO*LINEAR_W_W-1:0] ld_data,
    output logic                      in_valid,
    output logic                      in_first,
    output logic                      in_last,
    output logic                      in_shift,
    output logic [IBW:0]              in_addr,
    output logic [LI*OPERAND_W-1:0]   in_a,
    output logic [LO*48-1:0]          in_c,
    output logic [3:0]                in_user,
    input  logic                      out_valid,
    input  logic [LO*64-1:0]          out_acc,
    input  logic [3:0]                out_user
);
  localparam int OF     = OPERAND_W - OPERAND_I;
  localparam int WF     = LINEAR_W_W - LINEAR_W_I;
  localparam int PF     = OF + WF;                   // fraction bits of a product and of the sum
  localparam int PW     = 48;
  localparam int ACC_W  = 64;
  localparam int LOG_LI = $clog2(LI);
  localparam int ADEPTH = MAX_ROWS * MAX_IB;
  localparam int AAW    = ADEPTH > 1 ? $clog2(ADEPTH) : 1;

  if ((1 << LOG_LI) != LI || LO < 1 || MAX_ROWS < 1 || MAX_IN < 1) begin : g_chk
    $error("linear: LI must be a power of two (got %0d), LO, MAX_ROWS, MAX_IN >= 1", LI);
  end

  // ------------------------------------------------------------------------------------------
  // Call control: a two-entry call descriptor queue. The loader takes a call at ap_start (go_l) and
  // runs ahead; act / issue / out take it (go_c) when they are free: at once if idle, else when the
  // previous call's last beat left (done). The next ap_start is taken once the loader finished the
  // current call's last block and no call waits for act / issue / out (pend), so the loader loads the
  // next call's block 0 (weights + bias) into the free bank while the current call computes.
  // Every control signal is a register: ap_ready / ap_done are registered pulses.
  logic          lbusy, cbusy, pend, go_l, go_c, done, l_fin, i_active;
  logic [15:0]   in_r, out_r, n_ib_m1, rows_m1, p_n_ib_m1, p_rows_m1;
  logic          wk_r, bk_r, gelu_r, p_gelu;
  logic [1:0]    mode_r, p_mode;
  wire           accept = ap_start && !lbusy && !pend;
  wire           launch = (accept && (!cbusy || done)) || (pend && done);
  // the arguments of a call taken now, as the compute stages keep them
  wire [15:0]    a_n_ib_m1 = (in_dim - 1'b1) >> LOG_LI;
  wire [15:0]    a_rows_m1 = rows - 1'b1;
  // in_dim mod LI, registered with the call (p_lo at the accept, x_lo at the launch): linear_act
  // decodes the last beat's lane mask from it at go. Formed from in_dim before the call registers,
  // the mask was 4-5 LUT behind the in_dim port (ABC took r == 0 from the borrow of a_n_ib_m1's
  // subtract, whose carry chain starts the path): 3.28-3.49 ns on edge_moe.
  localparam int MB = LOG_LI > 0 ? LOG_LI : 1;
  wire  [MB-1:0] a_r = LI == 1 ? '0 : MB'(in_dim);   // in_dim mod LI (LI = 1: the one entry)
  logic [MB-1:0] p_lo, x_lo;
  // the loader's first block from out_dim, registered with out_r (linear_loader out_more / out_d)
  localparam int DW = LO > 1 ? $clog2(LO) : 1;
  logic          o_more;
  logic [DW-1:0] o_d;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      lbusy    <= 1'b0;
      cbusy    <= 1'b0;
      pend     <= 1'b0;
      go_l     <= 1'b0;
      go_c     <= 1'b0;
      ap_done  <= 1'b0;
      ap_ready <= 1'b0;
    end else begin
      go_l     <= accept;
      go_c     <= launch;
      ap_done  <= done;
      ap_ready <= accept;
      if (accept) lbusy <= 1'b1;
      else if (l_fin) lbusy <= 1'b0;
      // cbusy and pend as plain next values (not enables behind accept and launch, whose nets
      // drive the call registers' enables): a call waits from an accept that cannot launch (the
      // compute stages busy, no done) until done; == (accept && !launch ? 1 : launch ? 0 : pend)
      cbusy    <= launch || (cbusy && !done);
      pend     <= !done && (pend || (ap_start && !lbusy && cbusy));
    end
  end
  always_ff @(posedge ap_clk) begin
    if (accept) begin
      in_r      <= in_dim;
      out_r     <= out_dim;
      o_more    <= out_dim > 16'(LO);
      o_d       <= DW'(out_dim - 1'b1);
      wk_r      <= w_kind;
      bk_r      <= b_kind;
      p_gelu    <= use_gelu;
      p_mode    <= mode;
      p_n_ib_m1 <= a_n_ib_m1;
      p_rows_m1 <= a_rows_m1;
      p_lo      <= a_r;
    end
    if (launch) begin
      gelu_r      <= pend ? p_gelu : use_gelu;
      mode_r      <= pend ? p_mode : mode;
      n_ib_m1     <= pend ? p_n_ib_m1 : a_n_ib_m1;
      rows_m1     <= pend ? p_rows_m1 : a_rows_m1;
      x_lo        <= pend ? p_lo : a_r;
    end
  end
  assign ap_idle = !lbusy && !cbusy && !pend;

  // ------------------------------------------------------------------------------------------
  // Input register slices
  logic [W_BITS-1:0]    w_d;
  logic [AXI_WIDTH-1:0] b_d;
  logic                 w_v, w_r, b_v, b_r;
  logic [LI*ACT_W-1:0]  x_d;
  logic                 x_v, x_r;
  axis_skid #(.WIDTH(W_BITS), .FREE_LOAD(WB_FREE_LOAD)) u_w_slice (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(w_TDATA), .s_axis_tvalid(w_TVALID), .s_axis_tready(w_TREADY),
      .m_axis_tdata(w_d), .m_axis_tvalid(w_v), .m_axis_tready(w_r));
  axis_skid #(.WIDTH(AXI_WIDTH), .FREE_LOAD(WB_FREE_LOAD)) u_b_slice (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(b_TDATA), .s_axis_tvalid(b_TVALID), .s_axis_tready(b_TREADY),
      .m_axis_tdata(b_d), .m_axis_tvalid(b_v), .m_axis_tready(b_r));
  axis_skid #(.WIDTH(LI * ACT_W)) u_x_slice (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tdata(x_TDATA), .s_axis_tvalid(x_TVALID), .s_axis_tready(x_TREADY),
      .m_axis_tdata(x_d), .m_axis_tvalid(x_v), .m_axis_tready(x_r));

  // ------------------------------------------------------------------------------------------
  logic [2*LO*PW-1:0]          bias_c;
  logic [1:0]                  full, handover, last_blk, consume_bank, release_bank;
  logic [LO-1:0]               final_mask;
  linear_loader #(.LI(LI), .LO(LO), .IBW(IBW), .PW(PW), .PF(PF), .W_BITS(W_BITS), .W_ROWS(W_ROWS)) u_loader (
      .clk(ap_clk), .rst_n(ap_rst_n), .go(go_l), .hold(pend && i_active), .in_dim(in_r), .out_dim(out_r),
      .out_more(o_more), .out_d(o_d), .w_kind(wk_r), .b_kind(bk_r),
      .s_axis_w_tdata(w_d), .s_axis_w_tvalid(w_v), .s_axis_w_tready(w_r),
      .s_axis_b_tdata(b_d), .s_axis_b_tvalid(b_v), .s_axis_b_tready(b_r),
      .ld_valid(ld_valid), .ld_addr(ld_addr), .ld_row(ld_row), .ld_col(ld_col), .ld_data(ld_data),
      .bias_c(bias_c), .full(full), .handover(handover), .last_blk(last_blk), .consume_bank(consume_bank), .release_bank(release_bank),
      .mask_next(done), .final_mask(final_mask), .fin(l_fin));

  logic                      x_wr;
  logic [AAW-1:0]            rd_addr;
  logic [LI*OPERAND_W-1:0]   rd_data;
  linear_act #(.LI(LI), .ADEPTH(ADEPTH), .AAW(AAW)) u_act (
      .clk(ap_clk), .rst_n(ap_rst_n), .go(go_c), .rows_m1(rows_m1), .n_ib_m1(n_ib_m1), .last_lo(x_lo),
      .s_axis_x_tdata(x_d), .s_axis_x_tvalid(x_v), .s_axis_x_tready(x_r),
      .wr_pulse(x_wr), .rd_addr(rd_addr), .rd_data(rd_data));

  logic               st_valid, st_first, st_last, credit_ret;
  logic [IBW:0]       st_addr;
  logic [LO*PW-1:0]   st_c;
  logic [3:0]         st_user;
  linear_issue #(.LI(LI), .LO(LO), .IBW(IBW), .AAW(AAW), .PW(PW), .CREDITS(FIFO_DEPTH), .XW(AAW + 1)) u_issue (
      .clk(ap_clk), .rst_n(ap_rst_n), .go(go_c), .n_ib_m1(n_ib_m1), .rows_m1(rows_m1), .full(full), .handover(handover),
      .last_blk(last_blk), .consume_bank(consume_bank), .release_bank(release_bank), .x_wr(x_wr), .credit_ret(credit_ret), .bias_c(bias_c),
      .active(i_active), .rd_addr(rd_addr), .st_valid(st_valid), .st_first(st_first), .st_last(st_last), .st_addr(st_addr),
      .st_c(st_c), .st_user(st_user));

  // the array (outside): steps from the issue, results into the output stage
  assign in_valid = st_valid;
  assign in_first = st_first;
  assign in_last  = st_last;
  assign in_shift = 1'b0;
  assign in_addr  = st_addr;
  assign in_a     = rd_data;
  assign in_c     = st_c;
  assign in_user  = st_user;
  wire                 a_valid = out_valid;
  wire [LO*ACC_W-1:0]  a_acc   = out_acc;
  wire [3:0]           a_user  = out_user;

  linear_out #(.LO(LO), .ACC_W(ACC_W), .PF(PF), .DEPTH(FIFO_DEPTH), .MAX_ROWS(MAX_ROWS)) u_out (
      .clk(ap_clk), .rst_n(ap_rst_n), .go(go_c), .mode(mode_r), .use_gelu(gelu_r), .final_mask(final_mask),
      .a_valid(a_valid), .a_acc(a_acc), .a_user(a_user), .credit_ret(credit_ret),
      .s_axis_acc_tdata(acc_TDATA), .s_axis_acc_tvalid(acc_TVALID), .s_axis_acc_tready(acc_TREADY),
      .s_axis_s_tdata(s_TDATA), .s_axis_s_tvalid(s_TVALID), .s_axis_s_tready(s_TREADY),
      .m_axis_y_tdata(y_TDATA), .m_axis_y_tvalid(y_TVALID), .m_axis_y_tready(y_TREADY), .m_axis_y_tlast(y_TLAST),
      .done(done));

  wire unused_ok = &{1'b0, x_TLAST, w_TLAST, b_TLAST, acc_TLAST, s_TLAST};
endmodule

`default_nettype wire
