// The linear engine and the attention unit on ONE MAC array (issue #13: one LI x LO array of DSP48E2
// instead of two). In a frame the linear calls and attention never run at the same time (qkv linear
// -> attention -> projection linear, cosim/frame_schedule.py), so linear_core (rtl/src/linear_core.sv)
// and attention_core (rtl/src/attention_core.sv) take turns driving one mac_array through its driver
// ports. Each core's ports are at this boundary with a prefix (lin_*, attn_*: the ports of
// rtl/src/linear.sv and rtl/src/attention.sv); ap_clk / ap_rst_n are shared.
//
// Ownership. `sel` (a register; 0 linear, 1 attention) says which core drives the array: the array's
// inputs are a 2:1 mux of the two cores' driver registers selected by `sel` (no register stage: every
// cycle count is the stand-alone unit's), and out_valid reaches only the owner (the other core never
// sees a result beat; out_acc / out_user fan out to both, unqualified). The host asks for an owner
// with sel_req (level; registered here as req_r). The array changes hands at an edge only when it is
// idle: req_r != sel, both cores idle (ap_idle of the core), and no step or store write entered the
// array in the last LATENCY + 1 = LI + 4 edges (the `quiet` counter: a step sampled at edge 1 has its
// result on out_valid in the cycle after edge LI + 4, still under the old owner; the switch edge is
// LI + 5 at the earliest). A core may start only while it owns the array and no switch is asked for
// (grant_* = sel == req_r == unit, a register): its ap_start is held from the core otherwise, and
// lin_ap_idle / attn_ap_idle at this boundary are the core's ap_idle AND its grant (high: a start is
// taken at this edge). So a start for the non-owner waits (held, Vitis ap_ctrl_hs style: keep
// ap_start high until ap_ready / the unit's idle says taken) and cannot disturb the owner's call; a
// switch asked for mid-call happens after that call, and the owner starts nothing new meanwhile.
//
// Stationary store: DEPTH = the larger of the two cores' (addresses zero-extended), operands sign-
// extended to the wider AW / BW, UW the wider user (the linear core's 4 bits zero-extended, and cut
// back on out_user). Stale entries of the other core are harmless (docs/linear.md, "One array for
// the linear engine and attention"): each core reads only store entries it wrote in the same call,
// except entries whose product is zero (linear: rows past in_dim, activation 0; attention AV: keys
// >= T, e forced to 0) or whose column is discarded (linear: columns past out_dim, final_mask;
// attention QK: keys >= T, masked in the score stage) - as with its own stale entries stand-alone.
`default_nettype none

module linear_attention
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,            // array rows; attention's L = LI (= LO)
    parameter int LO = LINEAR_OUT,
    parameter int MAX_IN = LINEAR_MAX_IN,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int FIFO_DEPTH = 1 << $clog2(LI + 16),
    parameter int W_BITS = LINEAR_W_BITS,
    parameter int W_ROWS = LINEAR_W_ROWS,
    parameter bit WB_FREE_LOAD = 1'b0,       // linear_core's w_ / b_ slices load on a free slot (behind a FIFO)
    parameter int TMAX = NUM_TOKENS,
    parameter int EL   = attn_pkg::default_el(LI),
    parameter int RU   = attn_pkg::default_ru(LI),
    parameter int NL   = attn_pkg::default_nl(LI),
    parameter int EXP_LAT = exp_core_pkg::EXP_CORE_LATENCY
) (
    input  logic                      ap_clk,
    input  logic                      ap_rst_n,   // synchronous, active low
    input  logic                      sel_req,    // the owner the host wants: 0 linear, 1 attention
    output logic                      sel,        // the owner (register)
    // ---- linear engine (rtl/src/linear.sv's ports)
    input  logic                      lin_ap_start,
    output logic                      lin_ap_done,
    output logic                      lin_ap_idle,
    output logic                      lin_ap_ready,
    input  logic [15:0]               lin_in_dim,
    input  logic [15:0]               lin_out_dim,
    input  logic [15:0]               lin_rows,
    input  logic                      lin_w_kind,
    input  logic                      lin_b_kind,
    input  logic                      lin_use_gelu,
    input  logic [1:0]                lin_mode,
    input  logic [LI*ACT_W-1:0]       lin_x_TDATA,
    input  logic                      lin_x_TVALID,
    output logic                      lin_x_TREADY,
    input  logic                      lin_x_TLAST,
    input  logic [W_BITS-1:0]         lin_w_TDATA,
    input  logic                      lin_w_TVALID,
    output logic                      lin_w_TREADY,
    input  logic                      lin_w_TLAST,
    input  logic [AXI_WIDTH-1:0]      lin_b_TDATA,
    input  logic                      lin_b_TVALID,
    output logic                      lin_b_TREADY,
    input  logic                      lin_b_TLAST,
    input  logic [LO*ACT_W-1:0]       lin_acc_TDATA,
    input  logic                      lin_acc_TVALID,
    output logic                      lin_acc_TREADY,
    input  logic                      lin_acc_TLAST,
    input  logic [ACT_W-1:0]          lin_s_TDATA,
    input  logic                      lin_s_TVALID,
    output logic                      lin_s_TREADY,
    input  logic                      lin_s_TLAST,
    output logic [LO*ACT_W-1:0]       lin_y_TDATA,
    output logic                      lin_y_TVALID,
    input  logic                      lin_y_TREADY,
    output logic                      lin_y_TLAST,
    // ---- attention (rtl/src/attention.sv's ports)
    input  logic                      attn_ap_start,
    output logic                      attn_ap_done,
    output logic                      attn_ap_idle,
    output logic                      attn_ap_ready,
    input  logic [7:0]                attn_tokens,
    input  logic [LI*ACT_W-1:0]       attn_x_TDATA,
    input  logic                      attn_x_TVALID,
    output logic                      attn_x_TREADY,
    input  logic                      attn_x_TLAST,
    output logic [LI*ACT_W-1:0]       attn_y_TDATA,
    output logic                      attn_y_TVALID,
    input  logic                      attn_y_TREADY,
    output logic                      attn_y_TLAST
);
  localparam int PW = 48;
  // linear_core's array (linear.sv)
  localparam int L_MAX_IB = (MAX_IN + LI - 1) / LI;
  localparam int L_IBW    = L_MAX_IB > 1 ? $clog2(L_MAX_IB) : 1;
  localparam int L_DEPTH  = 2 << L_IBW;
  localparam int L_DAW    = L_IBW + 1;
  localparam int L_AW     = OPERAND_W;
  localparam int L_BW     = LINEAR_W_W;
  localparam int L_ACC_W  = 64;
  localparam int L_UW     = 4;
  // attention_core's array (attention.sv)
  localparam int A_DB     = HEAD_DIM / LI;
  localparam int A_KBMAX  = (TMAX + LI - 1) / LI;
  localparam int A_DEPTH  = attn_pkg::stationary_depth(A_DB, A_KBMAX);
  localparam int A_DAW    = $clog2(A_DEPTH);
  localparam int A_HW     = NUM_HEADS > 1 ? $clog2(NUM_HEADS) : 1;
  localparam int A_UW     = 32 + A_HW + 4 + 8 + 2;
  localparam int A_AW     = 27;
  localparam int A_BW     = 18;
  localparam int A_ACC_W  = 64;
  localparam int A_SHIFT  = 10;
  // the shared array: wide enough for both
  localparam int DEPTH = L_DEPTH > A_DEPTH ? L_DEPTH : A_DEPTH;
  localparam int DAW   = $clog2(DEPTH);
  localparam int AW    = L_AW > A_AW ? L_AW : A_AW;
  localparam int BW    = L_BW > A_BW ? L_BW : A_BW;
  localparam int ACC_W = L_ACC_W;
  localparam int UW    = L_UW > A_UW ? L_UW : A_UW;
  localparam int LATENCY = LI + 3;          // mac_array: step sampled -> out_valid (edges)
  localparam int QW    = $clog2(LATENCY + 1);

  // The two cores' needs must fit one array: attention's square tile, one accumulator width (the
  // linear engine keeps the sum modulo 2^44 of the 64 bits, attention needs 59 exact), a 27 x 18
  // DSP48E2 product, linear never shifts (SHIFT is attention's).
  if (LI != LO || ACC_W != A_ACC_W || AW > 27 || BW > 18 || L_DEPTH < 2 || A_DEPTH < 2) begin : g_chk
    $error("linear_attention: incompatible array needs: LI %0d LO %0d, ACC_W %0d / %0d, AW %0d, BW %0d", LI, LO,
           L_ACC_W, A_ACC_W, AW, BW);
  end

  // ---- ownership
  logic          req_r, grant_lin, grant_attn;
  // sel_o: sel again, for the result valid's gate only. sel drives the 2:1 mux of every array input
  // (thousands of loads); on edge_moe its net reached attn_norm's capture through out_valid && sel
  // (3.17 ns). Its own feedback (not sel's) keeps Yosys from merging the two flip-flops.
  (* keep *) logic sel_o;
  logic [QW-1:0] quiet;                     // edges until no step or write is in the array
  // quiet == 0 registered with quiet (quiet_z): as the compare it put a carry chain in front of the
  // switch and the grants (quiet -> grant_attn 5 LUT + CARRY, 3.29 ns on edge_moe)
  logic          quiet_z;
  logic          lin_idle_c, attn_idle_c;   // the cores' ap_idle
  logic          m_ld_valid, m_in_valid;    // the array's (muxed) load and step valid
  wire           switch_ok = req_r != sel && lin_idle_c && attn_idle_c && quiet_z;
  wire           sel_n     = switch_ok ? req_r : sel;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      sel        <= 1'b0;
      sel_o      <= 1'b0;
      req_r      <= 1'b0;
      grant_lin  <= 1'b1;   // sel == req_r == 0: the linear engine owns the array after reset
      grant_attn <= 1'b0;
      quiet      <= '0;
      quiet_z    <= 1'b1;
    end else begin
      sel        <= sel_n;
      sel_o      <= switch_ok ? req_r : sel_o;   // == sel_n (sel_o == sel, checked below)
      req_r      <= sel_req;
      grant_lin  <= !sel_n && !sel_req;     // == (sel == req_r == 0) in the next cycle
      grant_attn <= sel_n && sel_req;
      if (m_ld_valid || m_in_valid) quiet <= QW'(LATENCY);
      else if (quiet != '0) quiet <= quiet - 1'b1;
      quiet_z    <= !(m_ld_valid || m_in_valid) && (quiet_z || quiet == QW'(1));   // LATENCY >= 1
    end
  end
  assign lin_ap_idle  = lin_idle_c && grant_lin;
  assign attn_ap_idle = attn_idle_c && grant_attn;

  // ---- the cores
  logic                   l_ld_valid, l_in_valid, l_in_first, l_in_last, l_in_shift;
  logic [L_DAW-1:0]       l_ld_addr, l_in_addr;
  logic [LI-1:0]          l_ld_row;
  logic [LO-1:0]          l_ld_col;
  logic [LI*LO*L_BW-1:0]  l_ld_data;
  logic [LI*L_AW-1:0]     l_in_a;
  logic [LO*PW-1:0]       l_in_c;
  logic [L_UW-1:0]        l_in_user;
  logic                   a_ld_valid, a_in_valid, a_in_first, a_in_last, a_in_shift;
  logic [A_DAW-1:0]       a_ld_addr, a_in_addr;
  logic [LI-1:0]          a_ld_row, a_ld_col;
  logic [LI*LI*A_BW-1:0]  a_ld_data;
  logic [LI*A_AW-1:0]     a_in_a;
  logic [LI*PW-1:0]       a_in_c;
  logic [A_UW-1:0]        a_in_user;
  logic                   out_valid;
  logic [LO*ACC_W-1:0]    out_acc;
  logic [UW-1:0]          out_user;
  wire                    lin_out_valid  = out_valid && !sel_o;
  wire                    attn_out_valid = out_valid && sel_o;
`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && sel_o != sel) $error("linear_attention: sel_o differs from sel");
    if (ap_rst_n && quiet_z != (quiet == '0)) $error("linear_attention: quiet_z differs from quiet == 0");
  end
`endif

  linear_core #(.LI(LI), .LO(LO), .MAX_IN(MAX_IN), .MAX_ROWS(MAX_ROWS), .FIFO_DEPTH(FIFO_DEPTH), .W_BITS(W_BITS), .W_ROWS(W_ROWS),
                .WB_FREE_LOAD(WB_FREE_LOAD)) u_lin (
      .ap_clk, .ap_rst_n, .ap_start(lin_ap_start && grant_lin), .ap_done(lin_ap_done), .ap_idle(lin_idle_c),
      .ap_ready(lin_ap_ready), .in_dim(lin_in_dim), .out_dim(lin_out_dim), .rows(lin_rows), .w_kind(lin_w_kind),
      .b_kind(lin_b_kind), .use_gelu(lin_use_gelu), .mode(lin_mode),
      .x_TDATA(lin_x_TDATA), .x_TVALID(lin_x_TVALID), .x_TREADY(lin_x_TREADY), .x_TLAST(lin_x_TLAST),
      .w_TDATA(lin_w_TDATA), .w_TVALID(lin_w_TVALID), .w_TREADY(lin_w_TREADY), .w_TLAST(lin_w_TLAST),
      .b_TDATA(lin_b_TDATA), .b_TVALID(lin_b_TVALID), .b_TREADY(lin_b_TREADY), .b_TLAST(lin_b_TLAST),
      .acc_TDATA(lin_acc_TDATA), .acc_TVALID(lin_acc_TVALID), .acc_TREADY(lin_acc_TREADY), .acc_TLAST(lin_acc_TLAST),
      .s_TDATA(lin_s_TDATA), .s_TVALID(lin_s_TVALID), .s_TREADY(lin_s_TREADY), .s_TLAST(lin_s_TLAST),
      .y_TDATA(lin_y_TDATA), .y_TVALID(lin_y_TVALID), .y_TREADY(lin_y_TREADY), .y_TLAST(lin_y_TLAST),
      .ld_valid(l_ld_valid), .ld_addr(l_ld_addr), .ld_row(l_ld_row), .ld_col(l_ld_col), .ld_data(l_ld_data),
      .in_valid(l_in_valid), .in_first(l_in_first), .in_last(l_in_last), .in_shift(l_in_shift), .in_addr(l_in_addr),
      .in_a(l_in_a), .in_c(l_in_c), .in_user(l_in_user),
      .out_valid(lin_out_valid), .out_acc(out_acc), .out_user(out_user[L_UW-1:0]));

  attention_core #(.L(LI), .TMAX(TMAX), .EL(EL), .RU(RU), .NL(NL), .EXP_LAT(EXP_LAT)) u_attn (
      .ap_clk, .ap_rst_n, .ap_start(attn_ap_start && grant_attn), .ap_done(attn_ap_done), .ap_idle(attn_idle_c),
      .ap_ready(attn_ap_ready), .tokens(attn_tokens),
      .x_TDATA(attn_x_TDATA), .x_TVALID(attn_x_TVALID), .x_TREADY(attn_x_TREADY), .x_TLAST(attn_x_TLAST),
      .y_TDATA(attn_y_TDATA), .y_TVALID(attn_y_TVALID), .y_TREADY(attn_y_TREADY), .y_TLAST(attn_y_TLAST),
      .ld_valid(a_ld_valid), .ld_addr(a_ld_addr), .ld_row(a_ld_row), .ld_col(a_ld_col), .ld_data(a_ld_data),
      .in_valid(a_in_valid), .in_first(a_in_first), .in_last(a_in_last), .in_shift(a_in_shift), .in_addr(a_in_addr),
      .in_a(a_in_a), .in_c(a_in_c), .in_user(a_in_user),
      .out_valid(attn_out_valid), .out_acc(out_acc), .out_user(out_user[A_UW-1:0]));

  // ---- the array's inputs: the owner's registers through one 2:1 mux level (widths extended first:
  // wiring only)
  logic [LI*LO*BW-1:0] l_ld_x, a_ld_x, m_ld_data;
  logic [LI*AW-1:0]    l_a_x, a_a_x, m_in_a;
  for (genvar i = 0; i < LI; i++) begin : g_ext
    assign l_a_x[i*AW +: AW] = AW'($signed(l_in_a[i*L_AW +: L_AW]));
    assign a_a_x[i*AW +: AW] = AW'($signed(a_in_a[i*A_AW +: A_AW]));
    for (genvar o = 0; o < LO; o++) begin : g_cell
      assign l_ld_x[(i*LO+o)*BW +: BW] = BW'($signed(l_ld_data[(i*LO+o)*L_BW +: L_BW]));
      assign a_ld_x[(i*LO+o)*BW +: BW] = BW'($signed(a_ld_data[(i*LO+o)*A_BW +: A_BW]));
    end
  end
  logic               m_in_first, m_in_last, m_in_shift;
  logic [DAW-1:0]     m_ld_addr, m_in_addr;
  logic [LI-1:0]      m_ld_row;
  logic [LO-1:0]      m_ld_col;
  logic [LO*PW-1:0]   m_in_c;
  logic [UW-1:0]      m_in_user;
  // the driver bundle of each issuer, fields in one order; the owner's is the array's
  localparam int DRV_W = 1 + DAW + LI + LO + LI*LO*BW + 4 + DAW + LI*AW + LO*PW + UW;
  wire [DRV_W-1:0] l_drv = {l_ld_valid, DAW'(l_ld_addr), l_ld_row, l_ld_col, l_ld_x,
                            l_in_valid, l_in_first, l_in_last, l_in_shift, DAW'(l_in_addr), l_a_x, l_in_c, UW'(l_in_user)};
  wire [DRV_W-1:0] a_drv = {a_ld_valid, DAW'(a_ld_addr), a_ld_row, a_ld_col, a_ld_x,
                            a_in_valid, a_in_first, a_in_last, a_in_shift, DAW'(a_in_addr), a_a_x, a_in_c, UW'(a_in_user)};
  assign {m_ld_valid, m_ld_addr, m_ld_row, m_ld_col, m_ld_data,
          m_in_valid, m_in_first, m_in_last, m_in_shift, m_in_addr, m_in_a, m_in_c, m_in_user} = sel ? a_drv : l_drv;

  mac_array #(.LI(LI), .LO(LO), .AW(AW), .BW(BW), .PW(PW), .ACC_W(ACC_W), .SHIFT(A_SHIFT), .DEPTH(DEPTH), .UW(UW)) u_array (
      .clk(ap_clk), .rst_n(ap_rst_n), .ld_valid(m_ld_valid), .ld_addr(m_ld_addr), .ld_row(m_ld_row),
      .ld_col(m_ld_col), .ld_data(m_ld_data), .in_valid(m_in_valid), .in_first(m_in_first), .in_last(m_in_last),
      .in_shift(m_in_shift), .in_addr(m_in_addr), .in_a(m_in_a), .in_c(m_in_c), .in_user(m_in_user),
      .out_valid(out_valid), .out_acc(out_acc), .out_user(out_user));
endmodule

`default_nettype wire
