// Output stage of the linear engine. Per output beat (one output block of one processed row, LO
// lanes) from the MAC array:
//
//   y    = act(acc)                     the exact sum (PF fraction bits) assigned to act: AP_TRN =
//                                       floor at 2^-AF, AP_WRAP = keep ACT_W bits: bits [PF-AF +: ACT_W]
//   z    = use_gelu ? GELU(y) : y       gelu.sv lanes, selected per call
//   mode 0 (store):       out = z
//   mode 1 (accumulate):  out = act(prev + z)             prev from acc_
//   mode 2 (scaled):      out = act(prev + act(score * z)) score from s_ (block 0) / the score buffer
//   lanes past out_dim (the call's last block) are 0
//
// act(score * z) floors the exact 2 * ACT_W-bit product: score = sh 2^17 + sl and z = zh 2^17 + zl
// (sh, zh signed, sl, zl unsigned 17 bits) give four partial products that each fit one DSP48E2
// (27 x 18) with its M and P registers; two fabric stages add them (zh*sh 2^34 + zl*sl is a bit
// concatenation: zl*sl < 2^34). act(prev + .) wraps at ACT_W bits.
//
// The array has no backpressure: every beat it produces was granted a FIFO entry at issue (the
// issue side's credits, returned by credit_ret). The beat flags (the array's user bits) travel with
// the data; through GELU in a small in-order side FIFO. Stages after the join (O1 .. O6) advance
// together on o_ce (stall as a whole), then an axis_skid register slice drives y_. acc_ and s_
// come through register slices, so their TREADYs are flip-flops. The join's readies are one gate
// of low fan-out flip-flops (o_ce's control copy, acc_ok and s_ok registered from their next
// values), the GELU unit's input ready is predicted a cycle early (gm_rdy), and the side FIFO's
// head row_last is a flip-flop (side_last), so no ready waits for o_ce's datapath fan-out, the GELU
// enable's fan-out or a LUTRAM read.
`default_nettype none

module linear_out
  import model_pkg::*;
#(
    parameter int LO = LINEAR_OUT,
    parameter int ACC_W = 64,
    parameter int PF = 34,            // fraction bits of the exact sum
    parameter int DEPTH = 16,         // output FIFO entries (the issue side's credits)
    parameter int MAX_ROWS = LINEAR_MAX_ROWS
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic                   go,
    input  logic [1:0]             mode,
    input  logic                   use_gelu,
    input  logic [LO-1:0]          final_mask,
    input  logic                   a_valid,          // mac_array result
    /* verilator lint_off UNUSEDSIGNAL */  // act keeps bits [PF-AF +: ACT_W] of the exact sum
    input  logic [LO*ACC_W-1:0]    a_acc,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [3:0]             a_user,           // {call_last, block_first, block_last, row_last}
    output logic                   credit_ret,
    input  logic [LO*ACT_W-1:0]    s_axis_acc_tdata,
    input  logic                   s_axis_acc_tvalid,
    output logic                   s_axis_acc_tready,
    input  logic [ACT_W-1:0]       s_axis_s_tdata,
    input  logic                   s_axis_s_tvalid,
    output logic                   s_axis_s_tready,
    output logic [LO*ACT_W-1:0]    m_axis_y_tdata,
    output logic                   m_axis_y_tvalid,
    input  logic                   m_axis_y_tready,
    output logic                   m_axis_y_tlast,
    output logic                   done               // the call's last beat left on y_
);
  localparam int AW  = ACT_W;
  localparam int AF  = ACT_W - ACT_I;
  localparam int RSH = PF - AF;
  localparam int HS  = 17;                // partial-product split of the score multiply
  localparam int SAW = MAX_ROWS > 1 ? $clog2(MAX_ROWS) : 1;
  localparam int UW  = 4;

  if (ACT_QUANT != 0 || ACT_OVERFLOW != 0 || RSH < 0 || ACC_W < RSH + AW || AW <= HS || AW > HS + 18) begin : g_chk
    $error("linear_out: implements act = ap_fixed<17<W<=35,.,AP_TRN,AP_WRAP> with at most PF fraction bits");
  end

  // ---- act(acc): a bit slice (floor + wrap), into the FIFO with the beat flags
  logic [LO*AW-1:0] y_act;
  for (genvar o = 0; o < LO; o++) begin : g_round
    assign y_act[o*AW +: AW] = a_acc[o*ACC_W + RSH +: AW];
  end
  logic [LO*AW-1:0] f_data;
  logic [UW-1:0]    f_user;
  logic             f_valid, f_ready;
  axis_fifo #(.WIDTH(LO * AW + UW), .DEPTH(DEPTH)) u_fifo (
      .clk          (clk),
      .rst_n        (rst_n),
      .s_axis_tdata ({a_user, y_act}),
      .s_axis_tvalid(a_valid),
      .m_axis_tdata ({f_user, f_data}),
      .m_axis_tvalid(f_valid),
      .m_axis_tready(f_ready),
      .freed        (credit_ret)
  );

  // ---- optional GELU: GN instances of GL <= 8 lanes in lockstep (Yosys' memory_libmap throws on
  // one GELU table ROM with 16 read ports); the beat flags wait in an in-order side FIFO
  localparam int GN = (LO + 7) / 8;
  localparam int GL = (LO + GN - 1) / GN;
  logic [GN*GL*AW-1:0]   g_in, g_out;
  logic [GN-1:0]         g_in_ready_v, g_valid_v, g_last_v;
  logic [GN*GL*AW/8-1:0] g_keep, g_strb;
  logic                  g_in_ready, g_valid, g_ready;
  logic                  gm_ov;     // g_valid ahead of time (below)
  assign g_in = (GN * GL * AW)'(f_data);
  for (genvar g = 0; g < GN; g++) begin : g_gelu
    gelu #(.LANES(GL)) u_gelu (
        .ap_clk  (clk),
        .ap_rst_n(rst_n),
        .x_TDATA (g_in[g*GL*AW +: GL*AW]),
        .x_TVALID(f_valid && use_gelu),
        .x_TREADY(g_in_ready_v[g]),
        .x_TLAST (1'b0),
        .x_TKEEP ({(GL * AW / 8) {1'b1}}),
        .x_TSTRB ({(GL * AW / 8) {1'b1}}),
        .y_TDATA (g_out[g*GL*AW +: GL*AW]),
        .y_TVALID(g_valid_v[g]),
        .y_TREADY(g_ready),
        .y_TLAST (g_last_v[g]),
        .y_TKEEP (g_keep[g*GL*AW/8 +: GL*AW/8]),
        .y_TSTRB (g_strb[g*GL*AW/8 +: GL*AW/8])
    );
  end
  assign g_in_ready = &g_in_ready_v;
  assign g_valid    = &g_valid_v;

  // GELU's x_TREADY ahead of time. gelu.sv's is running && ce of its axis_pipe_ctrl (ce = !v[GST] ||
  // its output slice's s_ready), a function of flip-flops but one gate after ce, whose net drives
  // every GELU datapath register: the FIFO pop and the side FIFO push would start behind that net.
  // axis_pipe_mirror follows the same state (v, the output slice's skid slot) from the same inputs,
  // and gm_rdy is x_TREADY registered from its next value (0 in reset, as running && ce); an
  // assertion compares it with the unit's.
  // gm_ov mirrors the units' output valid too (their output slices' m_axis_tvalid, equal in lockstep):
  // one flip-flop of low fan-out instead of the AND of GN valids, each a net into its own unit
  // (GELU's y_TVALID -> the join's readies -> the acc_ slice was 5 LUT, 3.49 ns on edge_moe)
  localparam int GST = gelu_pkg::GELU_STAGES;   // gelu.sv's pipeline stages (its axis_pipe_ctrl STAGES)
  // g_ready (use_gelu && z_go) is the late input: gm_rdy's next value is g_ready || the mirror's kept
  // hold cofactor, one gate (ABC had made it 5 LUT behind o_ce, 2.96 ns on edge_moe).
  logic           gm_rdy, gm_rdy_hold;
  axis_pipe_mirror #(.STAGES(GST)) u_gm (
      .clk(clk), .rst_n(rst_n), .s_valid(f_valid && use_gelu), .m_ready(g_ready), .m_valid(gm_ov),
      /* verilator lint_off PINCONNECTEMPTY */ .ce_next() /* verilator lint_on PINCONNECTEMPTY */, .ce_next_hold(gm_rdy_hold));
  always_ff @(posedge clk) begin
    if (!rst_n) gm_rdy <= 1'b0;
    else gm_rdy <= g_ready || gm_rdy_hold;
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && gm_rdy != g_in_ready) $error("linear_out: gm_rdy differs from the GELU unit's x_TREADY");
    if (rst_n && (gm_ov != g_valid || g_valid_v != {GN{g_valid}}))
      $error("linear_out: gm_ov differs from the GELU units' y_TVALID");
  end
`endif

  logic             z_valid, z_ready;
  localparam int SDEPTH = 16;  // > beats inside the GELU unit (pipeline + output slice): never full
  logic [UW-1:0] side [SDEPTH];
  logic [3:0]    side_wp, side_rp;
  wire           g_push = f_valid && use_gelu && gm_rdy;
  wire           g_pop  = gm_ov && g_ready;
  // side_e0 (empty; never full) and side_e1 (one entry) registered from the pointers' moves, so
  // side_last below sees flip-flops and push / pop only
  // z_ready (z_go, in g_pop) is the late input: the flags' next values are its two cofactors, kept nodes of
  // flip-flops, selected in the last gate (as a clock enable g_push != g_pop, ABC built 4 LUT behind
  // o_ce, 3.01 ns on edge_moe)
  logic side_e0, side_e1;
  wire  side_e2 = side_wp == side_rp + 4'd2;
  wire  pop_if_go = gm_ov && use_gelu;              // g_pop when z_go
  (* keep *) wire e0_go = g_push == pop_if_go ? side_e0 : !g_push && side_e1;
  (* keep *) wire e1_go = g_push == pop_if_go ? side_e1 : g_push ? side_e0 : side_e2;
  (* keep *) wire e0_ng = !g_push && side_e0;
  (* keep *) wire e1_ng = g_push ? side_e0 : side_e1;
  always_ff @(posedge clk) begin
    if (g_push) side[side_wp] <= f_user;
    if (!rst_n || go) begin
      side_wp <= '0;
      side_rp <= '0;
      side_e0 <= 1'b1;
      side_e1 <= 1'b0;
    end else begin
      if (g_push) side_wp <= side_wp + 1'b1;
      if (g_pop) side_rp <= side_rp + 1'b1;
      side_e0 <= z_ready ? e0_go : e0_ng;
      side_e1 <= z_ready ? e1_go : e1_ng;
    end
  end
  // The head entry's row_last in a flip-flop (the join's next-state logic needs it; a LUTRAM read
  // costs ~1 ns before the first gate): after a pop the next entry, or the entry pushed in the same
  // cycle when the pop leaves only it; after a push into an empty FIFO the pushed entry; else it
  // stays.
  logic side_last;
  // Push and pop here leave out use_gelu: without GELU the side FIFO is empty (use_gelu only
  // changes between calls, with no beat inside GELU), and an empty FIFO's side_last is not used.
  wire  s_push = f_valid && gm_rdy;
  wire  s_pop  = gm_ov && z_ready;
  always_ff @(posedge clk) begin
    if (s_push && (s_pop ? side_e1 : side_e0)) side_last <= f_user[0];
    else if (s_pop) side_last <= side[side_rp + 1'b1][0];
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && (side_e0 != (side_wp == side_rp) || side_e1 != (side_wp == side_rp + 1'b1)))
      $error("linear_out: side_e0 / side_e1 differ from the pointers");
    if (rst_n && !side_e0 && side_last != side[side_rp][0]) $error("linear_out: side_last differs from the head entry");
  end
`endif

  logic [LO*AW-1:0] z_data;
  logic [UW-1:0]    z_user;
  assign f_ready = use_gelu ? gm_rdy : z_ready;
  assign z_valid = use_gelu ? gm_ov : f_valid;
  // The data multiplexers select on gsel, use_gelu one cycle late, to keep use_gelu's fan-out (it
  // also feeds the readies) small: use_gelu changes only at a call's launch, when no beat is in
  // linear_out (the previous call is done) and none arrives in the next cycle (the array's latency).
  logic gsel;
  always_ff @(posedge clk) gsel <= use_gelu;
  assign z_data  = gsel ? g_out[LO*AW-1:0] : f_data;
  assign z_user  = gsel ? side[side_rp] : f_user;
  wire   z_last  = use_gelu ? side_last : f_user[0];   // == z_user[0], from flip-flops
  assign g_ready = use_gelu && z_ready;
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && z_valid && z_last != z_user[0]) $error("linear_out: z_last differs from the head beat's row_last");
    if (rst_n && (f_valid || g_valid) && gsel != use_gelu) $error("linear_out: use_gelu changed with a beat inside");
  end
`endif

  // ---- acc_ and s_ register slices
  logic [LO*AW-1:0] prev_data;
  logic             prev_valid, prev_ready;
  logic [AW-1:0]    s_data;
  logic             s_valid, s_ready;
  axis_skid #(.WIDTH(LO * AW)) u_acc_slice (
      .clk(clk), .rst_n(rst_n),
      .s_axis_tdata(s_axis_acc_tdata), .s_axis_tvalid(s_axis_acc_tvalid), .s_axis_tready(s_axis_acc_tready),
      .m_axis_tdata(prev_data), .m_axis_tvalid(prev_valid), .m_axis_tready(prev_ready)
  );
  axis_skid #(.WIDTH(AW)) u_s_slice (
      .clk(clk), .rst_n(rst_n),
      .s_axis_tdata(s_axis_s_tdata), .s_axis_tvalid(s_axis_s_tvalid), .s_axis_tready(s_axis_s_tready),
      .m_axis_tdata(s_data), .m_axis_tvalid(s_valid), .m_axis_tready(s_ready)
  );

  // ---- join
  localparam int NS = 6;         // stages O1 .. O6
  logic [NS:1] v;
  logic        sk_ready;
  // o_ce = !v[NS] || sk_ready, registered from its next value (below), in two copies: o_ce for the
  // control (v, the join's next-state logic; a low fan-out) and o_ce_d for the datapath's stage
  // enables (hundreds of flip-flops). o_ce_d has no reset, so Yosys cannot merge the two: it only
  // enables data registers, which hold no beat while v is 0 after reset.
  logic        o_ce, o_ce_d;
  logic        need_acc, scaled;   // mode != 0, mode == 2: registered (mode is constant from go on)
  always_ff @(posedge clk) begin
    need_acc <= mode != 2'd0;
    scaled   <= mode == 2'd2;
  end
  // in_blk0 == z_user[2] (block_first) of the head beat whenever z_valid: the beats come block-major,
  // so block 0 ends with the first row_last beat taken. A flip-flop instead of the side FIFO's read
  // (LUTRAM) in front of the readies.
  logic        in_blk0;
  logic        need_s;         // scaled && in_blk0, registered from their next values
  // acc_ok = !need_acc || prev_valid and s_ok = !need_s || s_valid, registered from their next
  // values (below): the readies are then one gate of low fan-out flip-flops (o_ce's control copy,
  // acc_ok, s_ok, need_acc / need_s and the source's valid), and each leaves out its own source's
  // valid (a source looks at ready only with its valid high).
  // z_go, the three terms every consumer of the head beat shares, is one LUT of its own (keep): ABC
  // otherwise built it as a chain of LUT2s shared with the GELU readies and the side FIFO's pop,
  // o_ce -> side_e0 / side_e1 / gm_rdy 5-6 LUT, 3.44-3.50 ns on edge_moe.
  logic        acc_ok, s_ok;
  (* keep *) wire z_go = o_ce && acc_ok && s_ok;
  assign z_ready    = z_go;
  assign prev_ready = o_ce && need_acc && s_ok && z_valid;
  assign s_ready    = o_ce && need_s && acc_ok && z_valid;
  wire         take = z_go && z_valid;

  // Next values. o_ce: v[NS] after this edge, and the y slice's s_ready after this edge (its skid slot
  // stays or becomes empty when its output slot drains, or when it was empty and takes no beat).
  wire v_ns_next  = o_ce ? v[NS-1] : v[NS];
  wire y_free     = !m_axis_y_tvalid || m_axis_y_tready;
  wire sk_ready_n = y_free || (sk_ready && !v[NS]);
  wire o_ce_n     = !rst_n || !v_ns_next || sk_ready_n;
  // An axis_skid's m_axis_tvalid after this edge: its output slot keeps a beat it does not hand
  // over, or is refilled from the skid slot (full: s_axis_tready low) or the input
  wire prev_valid_n = rst_n && ((prev_valid && !prev_ready) || !s_axis_acc_tready || s_axis_acc_tvalid);
  wire s_valid_n    = rst_n && ((s_valid && !s_ready) || !s_axis_s_tready || s_axis_s_tvalid);
  // in_blk0: set by go, cleared when block 0's row_last beat is taken
  wire in_blk0_n    = !rst_n || go || (in_blk0 && !(take && z_last));
  wire need_s_n     = mode == 2'd2 && in_blk0_n;
  // Those next values as their two cofactors on z_go, each a kept node of flip-flops, with z_go and
  // the call start (go, reset) in the last gates (ABC had made o_ce -> s_ok 5 LUT, 2.98 ns on
  // edge_moe; with go inside the cofactors, the start's high-fan-out net came first: 3.03). In a
  // cofactor a source's handshake is its need flag and z_valid: with need_acc high, acc_ok is
  // prev_valid, so prev_valid && prev_ready == prev_valid && z_go && z_valid && need_acc (s_ likewise).
  // At the start in_blk0 is set, so need_s is mode == 2 and s_ok is !need_s || s_valid's next value.
  for (genvar c = 0; c < 2; c++) begin : g_cof
    wire tk = c == 1 && z_valid;   // take, when z_go is c
    wire pv = rst_n && ((prev_valid && !(tk && need_acc)) || !s_axis_acc_tready || s_axis_acc_tvalid);
    wire ib = in_blk0 && !(tk && z_last);
    (* keep *) wire sv   = rst_n && ((s_valid && !(tk && need_s)) || !s_axis_s_tready || s_axis_s_tvalid);
    (* keep *) wire blk0 = ib;
    (* keep *) wire nds  = mode == 2'd2 && ib;
    (* keep *) wire aok  = mode == 2'd0 || pv;
    (* keep *) wire sok  = !(mode == 2'd2 && ib) || sv;
  end
  wire start = !rst_n || go;
  wire sv_n  = z_go ? g_cof[1].sv : g_cof[0].sv;
  wire ck_acc_ok  = z_go ? g_cof[1].aok : g_cof[0].aok;
  wire ck_s_ok    = start ? mode != 2'd2 || sv_n : z_go ? g_cof[1].sok : g_cof[0].sok;
  wire ck_in_blk0 = start || (z_go ? g_cof[1].blk0 : g_cof[0].blk0);
  wire ck_need_s  = start ? mode == 2'd2 : z_go ? g_cof[1].nds : g_cof[0].nds;
  always_ff @(posedge clk) begin
    o_ce    <= o_ce_n;
    o_ce_d  <= !v_ns_next || sk_ready_n;
    acc_ok  <= ck_acc_ok;
    s_ok    <= ck_s_ok;
    in_blk0 <= ck_in_blk0;
    need_s  <= ck_need_s;
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (ck_acc_ok != (mode == 2'd0 || prev_valid_n) || ck_s_ok != (!need_s_n || s_valid_n)
        || ck_in_blk0 != in_blk0_n || ck_need_s != need_s_n)
      $error("linear_out: a cofactor on z_go differs from its direct next value");
  end
  always_ff @(posedge clk) begin
    if (rst_n && o_ce != (!v[NS] || sk_ready)) $error("linear_out: o_ce differs from its definition");
    if (rst_n && o_ce_d != o_ce) $error("linear_out: o_ce_d differs from o_ce");
    if (rst_n && acc_ok != (!need_acc || prev_valid)) $error("linear_out: acc_ok differs from its definition");
    if (rst_n && s_ok != (!need_s || s_valid)) $error("linear_out: s_ok differs from its definition");
  end
`endif

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && z_valid && in_blk0 != z_user[2]) $error("linear_out: in_blk0 differs from the beat's block_first");
    if (rst_n && !go && need_s != (scaled && in_blk0)) $error("linear_out: need_s differs from its definition");
  end
`endif

  logic [SAW-1:0] k;             // processed row of the next beat (score buffer index)
  // Distributed RAM read at the flip-flop address k (asynchronous): as a block RAM Yosys put the
  // read register into the RAM and moved k's next value (take -> the increment mux) onto the
  // address pins, o_ce -> ADDRARDADDR 2.7-3.6 ns on edge_moe between ABC runs.
  (* ram_style = "distributed" *) logic [AW-1:0] sbuf [MAX_ROWS];
  always_ff @(posedge clk) begin
    if (take && need_s) sbuf[k] <= s_data;
    if (!rst_n || go) k <= '0;
    else if (take) k <= z_last ? '0 : k + 1'b1;   // z_last: z_user[0] from a flip-flop (the side FIFO is LUTRAM; k is the score buffer's read address)
  end

  always_ff @(posedge clk) begin
    if (!rst_n) v <= '0;
    else if (o_ce) v <= NS'({v, take});
  end

  // ---- datapath stages; every lane the same
  logic [LO*AW-1:0] z1, z2, z3, z4, z5, prev1, prev2, prev3, prev4, prev5, y6;
  logic [LO-1:0]    m1, m2, m3, m4, m5;
  logic [1:0]       u1, u2, u3, u4, u5, u6;      // {call_last, row_last}
  logic [LO*AW-1:0] t5;
  always_ff @(posedge clk) begin
    if (o_ce_d) begin
      // O1: operands (the score's copies: g_scopy below)
      z1     <= z_data;
      prev1  <= prev_data;
      m1     <= z_user[1] ? final_mask : '1;
      u1     <= {z_user[3], z_user[0]};
      // O2 .. O5 carry the operands along the multiply
      {z2, prev2, m2, u2} <= {z1, prev1, m1, u1};
      {z3, prev3, m3, u3} <= {z2, prev2, m2, u2};
      {z4, prev4, m4, u4} <= {z3, prev3, m3, u3};
      {z5, prev5, m5, u5} <= {z4, prev4, m4, u4};
      u6 <= u5;
    end
  end

  // O1's score, one copy per S_FAN lanes (4 DSP48E2 each): one register fed the 4 LO multiplies
  // (3.12 ns on edge_moe, 1.06 ns of it the net to the DSP inputs). Separate variables with keep, as
  // mac_array's activation copies: Yosys merges equal flip-flops otherwise.
  localparam int S_FAN = 4;
  wire [AW-1:0] score_n = need_s ? s_data : sbuf[k];
  for (genvar c = 0; c < (LO + S_FAN - 1) / S_FAN; c++) begin : g_scopy
    (* keep *) logic [AW-1:0] score1;
    (* keep *) always_ff @(posedge clk) if (o_ce_d) score1 <= score_n;
  end

  for (genvar o = 0; o < LO; o++) begin : g_lane
    logic signed [AW-HS-1:0]      sh, zh;
    logic signed [HS:0]           sl, zl;           // unsigned 17 bits as signed 18
    // keep: hh2 -> hh3 -> cat4 would become an SRL (slower D setup) behind the DSP output
    (* keep *) logic signed [2*(AW-HS)-1:0] hh2, hh3;
    logic signed [AW+1:0]         hl2, hl3, lh2, lh3;
    /* verilator lint_off UNUSEDSIGNAL */  // ll < 2^34 (top bits 0); act keeps bits [AF +: AW] of the product
    logic signed [2*HS+1:0]       ll2, ll3;
    logic [2*AW-1:0]              prod5;
    /* verilator lint_on UNUSEDSIGNAL */
    logic signed [AW+2:0]         mid4;
    logic [2*AW-1:0]              cat4;
    wire  [AW-1:0]                zv = z1[o*AW +: AW];
    wire  [AW-1:0]                score1 = g_scopy[o / S_FAN].score1;
    assign sh = $signed(score1[AW-1:HS]);
    assign sl = $signed({1'b0, score1[HS-1:0]});
    assign zh = $signed(zv[AW-1:HS]);
    assign zl = $signed({1'b0, zv[HS-1:0]});
    always_ff @(posedge clk) begin
      if (o_ce_d) begin
        // O2: the four partial products (DSP M registers), O3: P registers
        hh2 <= sh * zh;
        hl2 <= sh * zl;
        lh2 <= sl * zh;
        ll2 <= sl * zl;
        {hh3, hl3, lh3, ll3} <= {hh2, hl2, lh2, ll2};
        // O4: middle terms; high and low terms side by side (ll < 2^34)
        mid4 <= (AW + 3)'(hl3) + (AW + 3)'(lh3);
        cat4 <= {(2*AW - 2*HS)'(hh3), ll3[2*HS-1:0]};
        // O5: act(score * z) = floor at 2^-AF, wrap (bits [AF +: AW] of the product), or z
        prod5 <= cat4 + ((2*AW)'(mid4) << HS);
        // O6: act(prev + addend); lanes past out_dim 0
        y6[o*AW +: AW] <= !m5[o] ? '0 : mode == 2'd0 ? t5[o*AW +: AW] : prev5[o*AW +: AW] + t5[o*AW +: AW];
      end
    end
    assign t5[o*AW +: AW] = mode == 2'd2 ? prod5[AF +: AW] : z5[o*AW +: AW];
  end

  logic y_eol;
  axis_skid #(.WIDTH(LO * AW + 2)) u_y_slice (
      .clk          (clk),
      .rst_n        (rst_n),
      .s_axis_tdata ({u6, y6}),
      .s_axis_tvalid(v[NS]),
      .s_axis_tready(sk_ready),
      .m_axis_tdata ({y_eol, m_axis_y_tlast, m_axis_y_tdata}),
      .m_axis_tvalid(m_axis_y_tvalid),
      .m_axis_tready(m_axis_y_tready)
  );
  assign done = m_axis_y_tvalid && m_axis_y_tready && y_eol;

  wire unused = &{1'b0, g_last_v, g_keep, g_strb, g_out, g_in_ready};
endmodule

`default_nettype wire
