// Weight and bias loader of the linear engine: reads the weight image and the bias image
// (pack_vector_axi) front to back, one output block (LO rows) at a time, and writes the block into
// one bank of the MAC array's stationary store (mac_array load port) and of the bias bank. The weight
// image (python_ref pack_matrix_w) has one of two layouts:
// * W_ROWS = 1 (pack_matrix_axi): W[out][in] row-major, E weights per word, rows padded to whole words;
// * W_ROWS = 2 (pack_matrix_pairs): a word is one LI-weight segment of two rows (2q, 2q + 1), E = 2 LI,
//   so a step writes two tile columns: the w_ port carries 2 LI weights a cycle (the experts with few
//   tokens are load-bound: this halves their load time).
//
// Per block: one setup cycle (the block's row count, column mask and "last block" flag from the
// remaining outputs), then one step per cycle: a SEG-weight segment of the current row (W_ROWS rows)
// from the word (SEG = min(E, LI), LI with two rows: a segment is part of one tile column), side by
// side with one bias per step (LO bias steps; biases past out_dim are zero), then one cycle to hand
// the bank over (full[bank]). So a block takes 3 + max(LO, ceil(rows_in_block / W_ROWS) * steps_per_row)
// cycles when its words arrive in time (steps_per_row = ceil(in/E) * E/SEG; ceil(in/LI) with two
// rows). A bank is refilled only after the issue side consumed (consume_bank) and released it
// (release_bank, LI cycles later: the array's last rows still read it in between).
//
// Store layout: entry {bank, ib} of cell (i, o) holds W[block*LO + o][ib*LI + i] in linear_w_t
// (the weight operand: weight_t << (WF - 14) or patch_weight_t << (WF - 16), exact); segments past
// in_dim are not written (the activations there are zero, so stale entries multiply zero).
// Bias bank: bias_c[bank][o] = b[block*LO + o] aligned to the product grid (PF fraction bits) for
// the array's C port; 0 past out_dim.
`default_nettype none

module linear_loader
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,
    parameter int LO = LINEAR_OUT,
    parameter int IBW = 5,             // in-block address bits (bank bit above them)
    parameter int PW = 48,             // C port
    parameter int PF = 34,             // fraction bits of a product (operand x weight operand)
    parameter int W_BITS = LINEAR_W_BITS,  // weight stream word (pack_matrix_w with this width)
    parameter int W_ROWS = LINEAR_W_ROWS,  // rows per word: 1 row-major, 2 row pairs (W_BITS = 2 LI weights)
    localparam int DW = LO > 1 ? $clog2(LO) : 1   // a block's last row index (< LO)
) (
    input  logic                     clk,
    input  logic                     rst_n,
    input  logic                     go,          // a call starts (arguments below are valid and stay)
    input  logic                     hold,        // do not hand a bank over yet (the issue still runs the
                                                  // previous call: it would take the bank as its own)
    input  logic [15:0]              in_dim,
    input  logic [15:0]              out_dim,
    // out_dim's first block, registered by the caller with out_dim (from its input port, so that go
    // only selects: the compares of the out_dim register behind go were 3 LUT and a carry into
    // s_lr_left's reset pin, 3.18 ns in linear_prefetch on edge_moe)
    input  logic                     out_more,    // out_dim > LO
    input  logic [DW-1:0]            out_d,       // out_dim - 1 (meaningful when !out_more)
    input  logic                     w_kind,      // 0 weight_t, 1 patch_weight_t
    input  logic                     b_kind,      // 0 bias_t, 1 attn_bias_t
    input  logic [W_BITS-1:0]        s_axis_w_tdata,
    input  logic                     s_axis_w_tvalid,
    output logic                     s_axis_w_tready,
    input  logic [AXI_WIDTH-1:0]     s_axis_b_tdata,
    input  logic                     s_axis_b_tvalid,
    output logic                     s_axis_b_tready,
    // mac_array load port (registered)
    output logic                     ld_valid,
    output logic [IBW:0]             ld_addr,
    output logic [LI-1:0]            ld_row,
    output logic [LO-1:0]            ld_col,
    output logic [LI*LO*LINEAR_W_W-1:0] ld_data,
    // banks
    output logic [2*LO*PW-1:0]       bias_c,
    output logic [1:0]               full,        // bank holds a loaded block not yet issued
    output logic [1:0]               handover,    // full[bank] is set at the end of this cycle
    output logic [1:0]               last_blk,    // that block is the call's last
    input  logic [1:0]               consume_bank, // the issue side finished the bank's block
    input  logic [1:0]               release_bank, // ... and the array no longer reads the bank
    input  logic                     mask_next,   // the output stage finished a call: its final_mask is next
    output logic [LO-1:0]            final_mask,  // columns of the output stage's call's last block (< out_dim)
    output logic                     fin          // the call's last block is handed over (pulse)
);
  localparam int WW  = LINEAR_W_W;
  localparam int WF  = LINEAR_W_W - LINEAR_W_I;
  localparam int SW  = WEIGHT_W;                  // weight lane in the stream
  localparam int E   = W_BITS / SW;               // weights per word
  localparam int SEG = W_ROWS == 2 ? LI : E < LI ? E : LI;   // weights per step and row
  localparam int QW  = W_ROWS == 2 ? 1 : E / SEG;             // steps per word
  localparam int RB  = W_ROWS == 2 ? 1 : 0;                   // log2 W_ROWS
  localparam logic [LI-1:0] SEG_ONES = LI'({SEG{1'b1}});     // the tile rows of a step's first segment
  localparam int EB  = AXI_WIDTH / BIAS_W;        // biases per word
  localparam int FW  = WEIGHT_W - WEIGHT_I;
  localparam int FP  = PATCH_WEIGHT_W - PATCH_WEIGHT_I;
  localparam int FB  = BIAS_W - BIAS_I;
  localparam int FAB = ATTN_BIAS_W - ATTN_BIAS_I;
  localparam int QWW = QW > 1 ? $clog2(QW) : 1;
  localparam int BLW = EB > 1 ? $clog2(EB) : 1;
  localparam int RW  = 17;                        // remaining-output counters (out_dim + LO fits)
  localparam int LRW = $clog2(LO) + 2;            // lr_left: < LO, or all ones past the block (never 1 or 2)

  if (WF < FW || WF < FP || PF < FB || PF < FAB || SW != PATCH_WEIGHT_W || W_BITS % SW != 0
      || AXI_WIDTH % BIAS_W != 0 || BIAS_W != ATTN_BIAS_W || (E % LI != 0 && LI % E != 0)) begin : g_chk
    $error("linear_loader: weight / bias formats or the word layout do not fit the array");
  end
  if (!(W_ROWS == 1 || (W_ROWS == 2 && E == 2 * LI && LO % 2 == 0))) begin : g_chk_rows
    $error("linear_loader: W_ROWS = %0d: 1, or 2 with W_BITS = 2 LI weights (%0d bits) and LO even", W_ROWS, 2 * LI * SW);
  end

  typedef enum logic [1:0] {IDLE, BSETUP, LOAD, HANDOVER} state_t;
  state_t state;
  logic   lbank;
  logic [1:0] held;              // consumed but not yet released
  // final lane masks in call order: the loader may finish the next call while the output stage still
  // masks the current call's last block (two entries: one call ahead at most)
  logic [LO-1:0] fmask [2];
  logic          fwp, frp;
  assign final_mask = fmask[frp];

  // ---- per-call counters
  logic [RW-1:0] rem;            // outputs not yet in a loaded block (out_dim - block * LO)
  logic [RW-1:0] b_rem;          // biases not yet read from the stream
  logic          b_in;           // b_rem != 0
  logic          b_one;          // b_rem == 1
  logic [BLW-1:0] bl;            // lane of the current bias word
  logic          bl_l;           // bl == EB - 1, registered with bl (no compare or carry before b_tready)
  // ---- per-block. The block's setup (setup_t: `more`, its column mask and the row counters' start
  // values, which BSETUP copies) is written where rem is: at go from the caller's out_more / out_d,
  // at a handover from nxt, the same values for rem - LO. BSETUP's compares of rem with constants were
  // 6 LUT in front of lr_one (3.32 ns in linear_prefetch on edge_moe). nxt is formed every cycle in two
  // register stages from rem: a_gt2 / a_d (one compare, one short subtract), then setup_of (functions
  // of DW + 1 flip-flops; the LO compares of rem itself were 5 LUT and a carry, 3.23 ns). rem is stable
  // from its write to the next handover, at least four edges later (BSETUP, two LOAD, HANDOVER).
  typedef struct packed {
    logic          more;         // another block follows this one (rem > LO)
    logic [LO-1:0] mask;         // columns of this block (o < rem)
    logic [LRW-1:0] lr_left;     // min(LO, rem) - 1
    logic          lr_last;      // min(LO, rem) == 1
    logic          lr_one;       // min(LO, rem) == 2
  } setup_t;
  // The setup of a block with r outputs left (r >= 1), from gt = r > LO and d = r - 1 when !gt (< LO,
  // so each bit is a function of DW + 1 flip-flops: a LUT6 for LO <= 32). The one formula of both writes.
  // The row counters count steps of W_ROWS rows: min(LO, r) rows are ceil(min(LO, r) / W_ROWS) steps,
  // the last index (d >> RB) when !gt.
  function automatic setup_t setup_of(input logic gt, input logic [DW-1:0] d);
    setup_t s;
    s.more    = gt;
    for (int o = 0; o < LO; o++) s.mask[o] = gt || 32'(d) >= o;
    s.lr_left = gt ? LRW'(LO / W_ROWS - 1) : LRW'(d >> RB);
    s.lr_last = LO == W_ROWS || (!gt && (d >> RB) == '0);
    s.lr_one  = gt ? LO == 2 * W_ROWS : 32'(d >> RB) == 1;
    return s;
  endfunction
  setup_t        blk;            // this block's
  setup_t        nxt;            // the next block's (rem - LO), valid two edges after rem's write
  logic          a_gt2;          // rem > 2 LO: the next block is a full one
  logic [DW-1:0] a_d;            // rem - LO - 1: the next block's last row when it is the call's last
  wire           more = blk.more;
  (* keep *) wire setup_t first = setup_of(out_more, out_d);   // the first block's, a function of flip-flops
  logic [LRW-1:0] lr_left;       // rows of the block still to load after the current one
  logic          lr_last;
  logic          lr_one;         // lr_left == 1, registered with it (lr_last's next value at a row end)
  logic [LO-1:0] col_oh;         // current row(s): W_ROWS adjacent columns
  logic [LO-1:0] b_oh;           // current bias step as a one-hot column
  logic          bdone, wdone;
  // ---- per row
  logic [15:0]   w_left;         // words of the row after the current one
  logic          w_last;
  logic [QWW-1:0] lq;            // step within the word
  logic [IBW-1:0] ib;            // in-block of the step
  logic [LI-1:0] seg_rows;       // tile rows of the step (SEG ones)
  logic [16:0]   c_left;         // columns of the row from this step on (in_dim - step * SEG)
  logic          seg_in;         // c_left > 0: the step holds weights of the matrix
  // With one step per word (QW = 1: SEG = E <= LI, or two-row words) a row's steps are its
  // ceil(in_dim / SEG) words, so every step holds weights: seg_in is constant and c_left unused (its
  // update from the w_ slice's valid, 3 LUT into c_left, was 3.02 ns in linear on edge_moe). Only
  // several steps per word (E > LI) can step past in_dim within a row's last word.
  wire           seg_ok = QW == 1 || seg_in;
  logic [15:0]   words_m1;       // ceil(in_dim / (E / W_ROWS)) - 1, per call: w_ words per row step

  // fin_arm == (state == HANDOVER && !more), registered: the caller's lbusy waits on fin behind its
  // own hold term (pend && active), and the state decode with `more` in front of it was 4 LUT, 3.04 ns
  logic fin_arm;
  assign fin = fin_arm && !hold;
  // ho_take: a block is handed over at this edge. Kept, as `first` below, so that blk's next value
  // is one LUT5 per bit (go, ho_take, first, nxt, blk): without the nodes ABC built the hold term
  // (pend && i_active from linear_core) into blk's data as 6 LUT (3.79 ns in linear_prefetch on edge_moe)
  (* keep *) wire ho_take = state == HANDOVER && !hold;
  assign handover = {2{ho_take}} & {lbank, !lbank};

  // Registered with their sources (no state decode or compare in front of the step's fan-out):
  logic w_en;                    // state == LOAD && !wdone
  logic b_en;                    // state == LOAD && !bdone
  logic q_last;                  // lq == QW - 1
  logic qw_last;                 // q_last && w_last (the row's last step)
  wire w_step   = w_en && s_axis_w_tvalid;
  // w_off_d = !w_en in a flip-flop of its own, for the load port's data registers only (LI x LO
  // weights: thousands of enables): the control below must not start behind that net (w_en ->
  // seg_rows was 4 LUT, 3.45 ns on edge_moe). The complement, so that Yosys does not merge it back.
  logic w_off_d;
  wire w_step_d = !w_off_d && s_axis_w_tvalid;   // == w_step
  wire row_end  = w_step && qw_last;
  wire b_step   = b_en && (!b_in || s_axis_b_tvalid);
  wire b_lane_l = bl_l;

  assign s_axis_w_tready = w_en && q_last;
  assign s_axis_b_tready = b_en && b_in && (b_lane_l || b_one);

  // ---- the segment of the current step, converted to linear_w_t; the bias of the step, aligned
  // seg_w[r]: row r of the step (W_ROWS = 2: lanes r LI .. r LI + LI - 1 of the word; no select)
  logic [W_ROWS*SEG*SW-1:0] seg_raw;
  logic [W_ROWS*SEG*WW-1:0] seg_w;
  assign seg_raw = s_axis_w_tdata[32'(lq) * (W_ROWS * SEG * SW) +: W_ROWS * SEG * SW];
  for (genvar s = 0; s < W_ROWS * SEG; s++) begin : g_wconv
    wire [SW-1:0] raw = seg_raw[s*SW +: SW];
    assign seg_w[s*WW +: WW] = w_kind ? (WW'($signed(raw)) << (WF - FP)) : (WW'($signed(raw)) << (WF - FW));
  end
  wire [BIAS_W-1:0] b_raw = s_axis_b_tdata[32'(bl) * BIAS_W +: BIAS_W];
  wire [PW-1:0]     b_al  = !b_in ? '0 : b_kind ? (PW'($signed(b_raw)) << (PF - FAB)) : (PW'($signed(b_raw)) << (PF - FB));
  logic [PW-1:0]    b_al_q;      // b_al and the write's bank / lane, registered: the write lands an edge later
  logic [2*LO-1:0]  b_we_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      state    <= IDLE;
      full     <= '0;
      held     <= '0;
      lbank    <= 1'b0;
      ld_valid <= 1'b0;
      w_en     <= 1'b0;
      w_off_d  <= 1'b1;
      fin_arm  <= 1'b0;
      b_en     <= 1'b0;
      fwp      <= 1'b0;
      frp      <= 1'b0;
    end else begin
      if (mask_next) frp <= !frp;
      // w_en's next value: BSETUP -> LOAD with wdone = 0; in LOAD it stays until the last row's last step
      // (wdone); any other state goes to BSETUP or IDLE
      w_en <= state == BSETUP ? !full[lbank] && !held[lbank] : state == LOAD && w_en && !(row_end && lr_last);
      w_off_d <= state == BSETUP ? full[lbank] || held[lbank] : !(state == LOAD && w_en && !(row_end && lr_last));
      // HANDOVER is entered from LOAD (bdone && wdone) and left when !hold; `more` changes only as it is
      // left (or at go, in IDLE)
      fin_arm <= !more && ((state == LOAD && bdone && wdone) || (state == HANDOVER && hold));
      // b_en's likewise: in LOAD it stays until the last bias step (bdone)
      b_en <= state == BSETUP ? !full[lbank] && !held[lbank] : state == LOAD && b_en && !(b_step && b_oh[LO-1]);
      full     <= full & ~consume_bank;
      held     <= (held | consume_bank) & ~release_bank;
      ld_valid <= w_step && seg_ok;
      case (state)
        IDLE: if (go) state <= BSETUP;  // lbank runs on across calls, as the issue's bank does
        BSETUP: if (!full[lbank] && !held[lbank]) state <= LOAD;
        LOAD: if (bdone && wdone) state <= HANDOVER;
        HANDOVER: if (!hold) begin
          full[lbank] <= 1'b1;
          lbank       <= !lbank;
          state       <= more ? BSETUP : IDLE;
          if (!more) fwp <= !fwp;
        end
        default: state <= IDLE;
      endcase
    end
  end

  always_ff @(posedge clk) begin
    if (go) begin
      rem      <= RW'(out_dim);
      b_rem    <= RW'(out_dim);
      b_in     <= out_dim != 16'd0;
      b_one    <= out_dim == 16'd1;
      bl       <= '0;
      bl_l     <= EB == 1;
      words_m1 <= 16'((32'(in_dim) + E / W_ROWS - 1) / (E / W_ROWS) - 1);   // words per row step
    end
    // the next block's setup, for rem - LO, in two stages (valid two edges after rem's write)
    a_gt2 <= rem > RW'(2 * LO);
    a_d   <= DW'(rem - RW'(LO + 1));
    nxt   <= setup_of(a_gt2, a_d);
    if (go) blk <= first;
    if (state == BSETUP) begin
      // the block's rows: min(LO, rem); the next state has them
      lr_left <= blk.lr_left;
      lr_last <= blk.lr_last;
      lr_one  <= blk.lr_one;
      col_oh  <= LO'((1 << W_ROWS) - 1);
      b_oh    <= LO'(1);
      bdone   <= 1'b0;
      wdone   <= 1'b0;
      w_left  <= words_m1;
      w_last  <= words_m1 == '0;
      lq      <= '0;
      q_last  <= QW == 1;
      qw_last <= QW == 1 && words_m1 == '0;
      seg_rows <= SEG_ONES;
      c_left  <= 17'(in_dim);
      seg_in  <= 1'b1;
    end
    if (ho_take) begin
      rem <= rem - RW'(LO);
      last_blk[lbank] <= !more;
      if (!more) fmask[fwp] <= blk.mask;
      blk <= nxt;  // the next block's (meaningless after the last block: the next go writes it again)
    end
    // The bias write one cycle after its step (b_we_q, b_al_q): the lane select of the stream word and
    // the alignment stay apart from the 2 LO-way write fan-out (bl -> bias_c was 3.13 ns on edge_moe
    // inside linear_attention). The write lands at the edge after the step, before the block's bank is
    // marked full (the last step sets bdone; LOAD -> HANDOVER -> full takes two more edges; checked
    // below). Constant slices with an enable each: a part-select indexed by lbank became a multiply
    // (a DSP48E2) and a 22-LUT write demultiplexer over the 2 LO PW bits on the 32-wide engine (13.4 ns).
    b_al_q <= b_al;
    for (int k = 0; k < 2; k++)
      for (int o = 0; o < LO; o++) begin
        b_we_q[k * LO + o] <= rst_n && b_step && b_oh[o] && lbank == 1'(k);
        if (b_we_q[k * LO + o]) bias_c[(k * LO + o) * PW +: PW] <= b_al_q;
      end
    if (b_step) begin
      b_oh <= b_oh << 1;
      if (b_oh[LO-1]) bdone <= 1'b1;
      if (b_in) begin
        b_rem <= b_rem - 1'b1;
        b_in  <= !b_one;
        b_one <= b_rem == RW'(2);
        bl    <= (b_lane_l || b_one) ? '0 : bl + 1'b1;
        bl_l  <= (b_lane_l || b_one) ? EB == 1 : 32'(bl) == EB - 2;
      end
    end
    if (w_step_d) begin
      // the register stage of the load port
      ld_addr <= {lbank, ib};
      ld_row  <= seg_rows;
      ld_col  <= col_oh;
      for (int i = 0; i < LI; i++) begin
        for (int o = 0; o < LO; o++) ld_data[(i*LO + o)*WW +: WW] <= seg_w[((o % W_ROWS) * SEG + i % SEG)*WW +: WW];
      end
    end
    if (w_step) begin
      // next step: segment, word, row
      c_left <= c_left - 17'(SEG);
      seg_in <= c_left > 17'(SEG);
      if (seg_rows[LI-1]) begin
        seg_rows <= SEG_ONES;
      end else begin
        seg_rows <= LI'({seg_rows, {SEG{1'b0}}});  // seg_rows << SEG (unreachable when SEG = LI)
      end
      lq <= q_last ? '0 : lq + 1'b1;
      q_last <= QW == 1 || (!q_last && 32'(lq) == QW - 2);
      qw_last <= (QW == 1 || (!q_last && 32'(lq) == QW - 2)) &&
                 (q_last ? (w_last ? words_m1 == '0 : w_left == 16'd1) : w_last);
      if (q_last) begin
        w_left <= w_last ? words_m1 : w_left - 1'b1;
        w_last <= w_last ? words_m1 == '0 : w_left == 16'd1;
      end
      if (qw_last) begin  // next row (row_end; w_step holds here, so the data does not wait on the valid)
        seg_rows <= SEG_ONES;
        c_left   <= 17'(in_dim);
        seg_in   <= 1'b1;
        col_oh   <= col_oh << W_ROWS;
        lr_left  <= lr_left - 1'b1;
        lr_last  <= lr_one;
        lr_one   <= 32'(lr_left) == 2;
        if (lr_last) wdone <= 1'b1;
      end
    end
  end
  // ib after a step, a function of flip-flops (kept: the step is then the last select; inside the
  // step's branch ABC chained it behind the w slice's valid, 5 LUT, 3.44 ns on edge_moe). BSETUP and
  // a step never meet (w_en is low in BSETUP).
  (* keep *) wire [IBW-1:0] ib_step = qw_last ? '0 : seg_rows[LI-1] ? ib + 1'b1 : ib;
  always_ff @(posedge clk) begin
    if (state == BSETUP) ib <= '0;
    else if (w_step) ib <= ib_step;
  end

`ifndef SYNTHESIS
  // The setup of a block with r >= 1 outputs left from r's own compares: the simulation's independent
  // formula, checked against setup_of's writes below.
  function automatic setup_t setup_ref(input logic [RW-1:0] r);
    setup_t s;
    s.more    = r > RW'(LO);
    for (int o = 0; o < LO; o++) s.mask[o] = r > RW'(o);
    s.lr_left = r > RW'(LO) ? LRW'(LO / W_ROWS - 1) : LRW'((r + RW'(W_ROWS - 1)) / RW'(W_ROWS) - 1'b1);
    s.lr_last = LO == W_ROWS || r <= RW'(W_ROWS);
    s.lr_one  = r > RW'(LO) ? LO == 2 * W_ROWS : (r + RW'(W_ROWS - 1)) / RW'(W_ROWS) == RW'(2);
    return s;
  endfunction
  always_ff @(posedge clk) begin
    for (int k = 0; k < 2; k++)
      if (rst_n && |b_we_q[k * LO +: LO] && full[k])
        $error("linear_loader: a bias write to bank %0d lands after the bank was handed over", k);
    if (rst_n && (w_en != (state == LOAD && !wdone) || b_en != (state == LOAD && !bdone) ||
                  (state == LOAD && (q_last != (32'(lq) == QW - 1) || qw_last != (q_last && w_last)))))
      $error("linear_loader: a registered flag differs from its definition");
    if (rst_n && state == LOAD && (lr_one != (32'(lr_left) == 1) || bl_l != (32'(bl) == EB - 1)))
      $error("linear_loader: lr_one / bl_l differ from their definitions");
    if (rst_n && w_off_d != !w_en) $error("linear_loader: w_off_d differs from !w_en");
    if (rst_n && QW == 1 && w_step && !seg_in) $error("linear_loader: a step past in_dim with one step per word");
    if (rst_n && fin_arm != (state == HANDOVER && !more)) $error("linear_loader: fin_arm differs from its definition");
    // the caller's first-block arguments equal out_dim's compares
    if (rst_n && go && (out_dim == 16'd0 || out_more != (out_dim > 16'(LO)) ||
                        (!out_more && out_d != DW'(out_dim - 1'b1))))
      $error("linear_loader: the caller's out_more / out_d differs from out_dim = %0d (or out_dim is 0)", out_dim);
    // the setup written ahead equals setup_ref of the remaining count: BSETUP's block (rem) and the
    // next block's as the handover takes it (rem - LO)
    if (rst_n && state == BSETUP && blk != setup_ref(rem))
      $error("linear_loader: the block setup %h differs from rem's %h ({more, mask, lr_left, lr_last, lr_one})",
             blk, setup_ref(rem));
    if (rst_n && state == HANDOVER && more && nxt != setup_ref(rem - RW'(LO)))
      $error("linear_loader: the next block's setup %h differs from rem - LO's %h ({more, mask, lr_left, lr_last, lr_one})",
             nxt, setup_ref(rem - RW'(LO)));
  end
`endif
endmodule

`default_nettype wire
