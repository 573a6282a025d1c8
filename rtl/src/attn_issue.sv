// The step issuer of the attention unit (rtl/src/attention.sv): the schedule control that drives the
// MAC array's step port, one step per cycle at most, in attn_phase order.
//
//   QK(h), key block kb (bank = job parity), row r = 0 .. T-1, sub = db * NP + part, db < DB:
//     A = q[r][h d + db L .. + L] (q's format, from the Q/K/V store), entry bank * HALF + sub,
//     shift on the hi part (part 0; NP = 2 only), first on sub 0, last on sub NP DB - 1.
//     Result: S[r][kb L + o] for the L columns o (the score stage's beat).
//   AV(h), output block ob, row r, sub = kb * NP + part, kb < KB:
//     A = e[r][kb L .. + L] (EXP_FORMAT, zero-extended; lanes of keys >= T forced to 0),
//     entry bank * HALF + sub. Result: U[r][ob L + o] (the normaliser's beat), with r_r riding along
//     in the step's user bits.
//   With NP = 1, a row of one block (AV: KB = 1, i.e. T <= L; QK: DB = 1, i.e. d = L) gets a second
//   step with A = 0 (adds nothing), so that every row has at least two steps (the invariants below
//   rely on it).
//   NP = attn_pkg::KV_PASSES: 2 when K / V are split hi / lo, 1 when they go through whole.
//
// Gating (checked before a row's first step; a row's steps then issue back to back):
//   * a block's first step waits for its tile (full[bank]); its last step consumes the bank;
//   * an AV row waits until the exp pass has finished that row of that head (e and r written:
//     rows_ready counts rows over heads in order, the AV row's index is h T + r);
//   * AV rows start at least NCPB cycles apart (the normaliser takes L / NL cycles per beat).
// Pipeline: decision (cycle c) -> store / buffer read addresses (c + 1) -> read data (c + 3) ->
// in_* registers (c + 4). The user bits: {r_value, head, block, row, last block of the phase, is_av}.
`default_nettype none

module attn_issue
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,
    parameter int TMAX = NUM_TOKENS,
    parameter int H    = NUM_HEADS,
    parameter int DB   = HEAD_DIM / L,
    parameter int WPR  = FEATURE_DIM / L,
    parameter int KBMAX = (TMAX + L - 1) / L,
    parameter int NCPB = 4,                          // normaliser cycles per AV beat
    parameter int QW   = ATTENTION_Q_W,              // q in the store
    parameter int NP   = attn_pkg::KV_PASSES,         // array steps per dim / key block (2: hi / lo)
    parameter int EW   = 25,                         // EXP_FORMAT bits
    parameter int AW   = 27,                         // the array's A port
    parameter int HALF = attn_pkg::stationary_depth(DB, KBMAX) / 2,
    parameter int DAW  = $clog2(2 * HALF),
    parameter int AWD  = $clog2(TMAX * WPR),
    parameter int EAW  = $clog2(2 * TMAX * KBMAX),
    parameter int HW   = H > 1 ? $clog2(H) : 1,
    parameter int GW   = $clog2(H * TMAX + 1),       // global row counters (head-major)
    parameter int UW   = attn_pkg::user_w(HW)
) (
    input  logic              clk,
    input  logic              rst_n,        // synchronous, active low
    input  logic              start,
    input  logic [7:0]        tokens,       // T
    input  logic [7:0]        t_m1,         // T - 1
    input  logic [3:0]        kb_m1,        // KB - 1
    input  logic [L-1:0]      mask_last,    // lanes of the last key block that are keys (< T)
    input  logic [1:0]        full,
    output logic              consume,      // one cycle: the block on consume_bank has issued its last step
    output logic              consume_bank,
    input  logic [GW-1:0]     rows_ready_n, // exp pass: rows (head-major) with e and r written, next cycle's value
    output logic              done,         // every step issued
    output logic [AWD-1:0]    q_raddr,
    input  logic [L*QW-1:0]   q_rdata,
    output logic [EAW-1:0]    e_raddr,
    input  logic [L*EW-1:0]   e_rdata,
    output logic [8:0]        r_raddr,      // {head parity, row}
    input  logic [31:0]       r_rdata,
    output logic              in_valid,
    output logic              in_first,
    output logic              in_last,
    output logic              in_shift,
    output logic [DAW-1:0]    in_addr,
    output logic [L*AW-1:0]   in_a,
    output logic [UW-1:0]     in_user
);
  if (DB * L != HEAD_DIM || WPR * L != FEATURE_DIM || KBMAX > 15 || DB > 7 || TMAX > 255 || QW > AW ||
      EW >= AW || NCPB < 1 || DAW > 8 || UW != attn_pkg::user_w(HW) || (NP != 1 && NP != 2)) begin : g_chk
    $error("attn_issue: geometry outside what the counters and the step tag (attn_pkg) hold");
  end


  logic          is_av, ph_done, ph_adv;
  logic [HW-1:0] head;
  attn_phase #(.H(H), .HW(HW)) u_phase (
      .clk(clk), .rst_n(rst_n), .start(start), .adv(ph_adv), .is_av(is_av), .head(head), .done(ph_done));
  assign done = ph_done;

  logic [attn_pkg::U_BLK_W-1:0] blk;   // the step tag's fields (attn_pkg): KBMAX <= 15, TMAX <= 255
  logic [attn_pkg::U_ROW_W-1:0] r;
  logic [3:0]     sub;
  logic           bank;
  logic [AWD-1:0] qrow;           // r * WPR
  wire  [AWD-1:0] hoff = AWD'(attn_pkg::mul_const(32'(head), DB));   // the head's first word (combinational: valid in a phase's first cycle)
  logic [EAW-1:0] erow;           // r * KBMAX
  logic [GW-1:0]  av_base, avg;   // h T (the AV phase's first global row); avg = av_base + r
  logic [GW-1:0]  avg1, av_base1; // avg + 1, av_base + 1
  logic [GW-1:0]  av_next;        // av_base + T
  logic           rr_ok;          // rows_ready > avg, registered from the next values (rows_ready_n, avg's
                                  // candidates): no compare on the issue path
  logic [7:0]     hold;           // AV: cycles until the next row may start
  logic           idle_row;       // no step of the current row issued yet (sub == 0)
  logic           hold_z;         // hold == 0 (registered with hold: no compare on the issue path)
  logic           row0;           // r == 0
  logic           last_row;       // r == T - 1
  logic [7:0]     t_m2;           // T - 2: last_row's next value is r == t_m2 (no incrementer before the compare)
  logic           last_sub;       // sub == nsub_m1 (registered with sub: no compare on the phase-advance path)

  // steps per row - 1: QK NP DB - 1, AV NP KB - 1, each at least 1 (NP = 1 and one block: the zero step)
  localparam int QK_M1 = NP * DB > 1 ? NP * DB - 1 : 1;
  logic [3:0] av_m1;              // registered from kb_m1 (set before start, then held)
  always_ff @(posedge clk) av_m1 <= NP == 2 ? {kb_m1[2:0], 1'b1} : (kb_m1 == 4'd0 ? 4'd1 : kb_m1);
  wire [3:0] nsub_m1   = is_av ? av_m1 : 4'(QK_M1);
  logic      lblk_qk, lblk_av;   // blk == kb_m1, blk == DB - 1: registered with blk (no compare before rr_ok / ph_adv)
  wire       last_blk  = is_av ? lblk_av : lblk_qk;
  wire       tile_ok   = !(row0 && idle_row) || full[bank];
  wire       row_ok    = !idle_row || !is_av || (rr_ok && hold_z);
  wire       go        = !ph_done && tile_ok && row_ok;
  // A row's last step is never its first (2 <= nsub: QK_M1, av_m1 >= 1), so idle_row is low with
  // last_sub and the gates tile_ok / row_ok are 1: the block end and the phase advance need no
  // full[bank] / rr_ok / hold (equal to go && last_sub && last_row in every cycle, without their LUT
  // depth).
  wire       row_end   = !ph_done && last_sub;   // == go && last_sub, one LUT instead of go's depth
  wire       blk_end   = row_end && last_row;
  assign ph_adv = blk_end && last_blk;

  always_ff @(posedge clk) begin
    if (start) begin
      blk      <= '0;
      lblk_qk  <= kb_m1 == 4'd0;      // kb_m1 is set before start
      lblk_av  <= DB == 1;
      sub      <= '0;
      bank     <= 1'b0;
      r        <= '0;
      qrow     <= '0;
      erow     <= '0;
      av_base  <= '0;
      avg      <= '0;
      avg1     <= GW'(1);
      av_base1 <= GW'(1);
      av_next  <= GW'(tokens);
      hold     <= '0;
      hold_z   <= 1'b1;
      row0     <= 1'b1;
      last_row <= t_m1 == 8'd0;
      idle_row <= 1'b1;
      last_sub <= 1'b0;               // nsub_m1 >= 1
    end else begin
      if (!hold_z) hold <= hold - 8'd1;
      hold_z <= hold <= 8'd1;
      if (go) begin
        if (idle_row && is_av) begin
          hold   <= 8'(NCPB - 1);
          hold_z <= NCPB == 1;
        end
        idle_row <= last_sub;
        sub      <= last_sub ? 4'd0 : sub + 4'd1;
        // the next sub's flag: 0 after a row (nsub_m1 >= 1), else sub + 1 == nsub_m1 (is_av only changes
        // with the phase advance, which needs last_sub)
        last_sub <= last_sub ? 1'b0 : sub + 4'd1 == nsub_m1;
      end
      // the row walk at a row's last step (row_end == go && last_sub: the assertion below)
      if (row_end) begin
        if (last_row) begin
          r    <= '0;
          row0 <= 1'b1;
          last_row <= t_m1 == 8'd0;
          qrow <= '0;
          erow <= '0;
          avg  <= av_base;
          avg1 <= av_base1;
          bank <= !bank;
          blk  <= last_blk ? 4'd0 : blk + 4'd1;
          lblk_qk <= last_blk ? kb_m1 == 4'd0 : blk + 4'd1 == kb_m1;
          lblk_av <= last_blk ? DB == 1 : blk + 4'd1 == 4'(DB - 1);
          if (is_av && last_blk) begin
            av_base  <= av_next;
            av_base1 <= av_next + 1'b1;
            av_next  <= av_next + GW'(tokens);
            avg      <= av_next;
            avg1     <= av_next + 1'b1;
          end
        end else begin
          r    <= r + 8'd1;
          row0 <= 1'b0;
          last_row <= r == t_m2;        // == (r + 1 == t_m1) mod 256
          qrow <= qrow + AWD'(WPR);
          erow <= erow + EAW'(KBMAX);
          avg  <= avg1;
          avg1 <= avg1 + 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk) t_m2 <= t_m1 - 8'd1;   // t_m1 is held from start on; used at the first row end

  // rr_ok == (rows_ready > avg) in every cycle: rows_ready_n is rows_ready's next value, and avg's next
  // value is one of avg, avg + 1, av_base, av_base + T (the same choice as the row walk above)
  // avg_nr: avg's value after the current row ends (avg1, or at a block end av_base / av_next), a register
  // one cycle behind its sources; they change only at a row end, and row ends are >= 2 cycles apart (a row
  // has >= 2 steps), so it is current at every row end (the assertion below): one compare at a row end
  logic [GW-1:0] avg_nr;
  always_ff @(posedge clk) begin
    avg_nr <= !last_row ? avg1 : (is_av && last_blk) ? av_next : av_base;
    if (!rst_n || start) rr_ok <= 1'b0;
    else if (row_end) rr_ok <= rows_ready_n > avg_nr;
    else rr_ok <= rows_ready_n > avg;
  end

  // ---- D0: the step and its read addresses
  logic          d0_v, d0_first, d0_last, d0_shift, d0_av, d0_mask, d0_zero;
  logic [DAW-1:0] d0_addr;
  logic [UW-33:0] d0_tag;
  wire  [3:0]    kb_idx = NP == 2 ? sub >> 1 : sub;   // QK: the dim block; AV: the key block
  always_ff @(posedge clk) begin
    if (!rst_n || start) d0_v <= 1'b0;
    else d0_v <= go;
    d0_first <= sub == 4'd0;
    d0_last  <= last_sub;
    d0_shift <= NP == 2 && !sub[0];
    d0_av    <= is_av;
    d0_mask  <= is_av && kb_idx == kb_m1;
    d0_zero  <= NP == 1 && (is_av ? kb_idx > kb_m1 : kb_idx >= 4'(DB));   // the zero step of a one-block row
    d0_addr  <= (bank ? DAW'(HALF) : '0) + DAW'(sub);
    d0_tag   <= {head, attn_pkg::step_tag_t'{blk: blk, row: r, last: last_blk, av: is_av}};
    q_raddr  <= qrow + hoff + AWD'(kb_idx);
    e_raddr  <= (head[0] ? EAW'(TMAX * KBMAX) : '0) + erow + EAW'(kb_idx);
    r_raddr  <= {head[0], r};
  end

  // ---- D1, D2: wait for the read data; then the step registers
  logic          d1_v, d2_v, d1_first, d2_first, d1_last, d2_last, d1_shift, d2_shift, d1_av, d2_av, d1_mask,
                 d2_mask, d1_zero, d2_zero;
  logic [DAW-1:0] d1_addr, d2_addr;
  logic [UW-33:0] d1_tag, d2_tag;
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      d1_v <= 1'b0;
      d2_v <= 1'b0;
      in_valid <= 1'b0;
    end else begin
      d1_v <= d0_v;
      d2_v <= d1_v;
      in_valid <= d2_v;
    end
    {d1_first, d1_last, d1_shift, d1_av, d1_mask, d1_zero, d1_addr, d1_tag} <=
        {d0_first, d0_last, d0_shift, d0_av, d0_mask, d0_zero, d0_addr, d0_tag};
    {d2_first, d2_last, d2_shift, d2_av, d2_mask, d2_zero, d2_addr, d2_tag} <=
        {d1_first, d1_last, d1_shift, d1_av, d1_mask, d1_zero, d1_addr, d1_tag};
    in_first <= d2_first;
    in_last  <= d2_last;
    in_shift <= d2_shift;
    in_addr  <= d2_addr;
    in_user  <= {r_rdata, d2_tag};
    for (int i = 0; i < L; i++) begin
      if (d2_zero) in_a[i*AW +: AW] <= '0;
      else if (d2_av) in_a[i*AW +: AW] <= (d2_mask && !mask_last[i]) ? '0 : AW'(e_rdata[i*EW +: EW]);
      else in_a[i*AW +: AW] <= AW'($signed(q_rdata[i*QW +: QW]));
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && !start && last_sub && !ph_done && !go) $error("attn_issue: a row's last step was gated");
    if (rst_n && !start && !ph_done && last_row != (r == t_m1)) $error("attn_issue: last_row differs from r == t_m1");
    if (rst_n && !start && row_end && avg_nr != (!last_row ? avg1 : (is_av && last_blk) ? av_next : av_base))
      $error("attn_issue: avg_nr is not avg's next value at a row end");
  end
`endif

  always_ff @(posedge clk) begin
    if (!rst_n || start) consume <= 1'b0;
    else consume <= blk_end;
    if (blk_end) consume_bank <= bank;
  end
  wire unused_tok = &{1'b0, tokens};
endmodule

`default_nettype wire
