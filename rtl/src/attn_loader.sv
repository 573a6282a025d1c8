// The K/V tile loader of the attention unit (rtl/src/attention.sv): fills the MAC array's stationary
// store, one tile ("job") per array block, in the order the step issuer consumes them (attn_phase
// order; per QK phase the key blocks kb = 0 .. KB-1, per AV phase the output blocks ob = 0 .. OB-1).
// Job n uses bank n mod 2 (store entries bank * HALF + e): the next block's tile loads while the
// current block computes.
//
//   QK(h), key block kb: K stationary, cell (i, o) = k[kb L + o][h d + db L + i]. Split (NP = 2, K
//     wider than the B port): entry db * 2 + 0 holds hi = k >> 10 (17-bit signed), entry db * 2 + 1
//     holds lo = k & 1023 (10-bit unsigned); single pass (NP = 1): entry db holds k. Per key o (only
//     the T - kb L keys that exist) and dim block db: one K word, NP writes to column o (ld_col
//     one-hot, every row).
//   AV(h), output block ob: V stationary, cell (i, o) = v[kb L + i][h d + ob L + o]; entries kb * 2
//     + 0 / 1 (hi / lo), or kb. Per key t < T: one V word, NP writes to row t mod L (every column).
//
// A K word is one key's L dims (a tile column), a V word one key's L dims (a tile row). Both go
// through one bus: the word x (L lanes) is permuted to y[m] = x[m ^ p], p = t mod L (the key's place
// in the block; L is a power of two), and cell (i, o) of ld_data is wired to y[i ^ o]. So column p
// receives x[i] in row i (K) and row p receives x[o] in column o (V), without a mux per cell.
//
// Pipeline per word: read address (cycle k) -> K/V word (k + 2) -> permutation (2 stages) ->
// ld_* registers (hi or whole write presented in cycle k + 5, lo in k + 6). One word every 2 cycles: a K
// tile takes nk * DB * 2 cycles, a V tile 2 T. A job starts when its phase's input is in the store
// (ph_in: attn_qkv_store streams the phases' Q / K / V in phase order, so the loader counts them) and its bank
// is free (attention_core's free[bank]: neither held, i.e. claimed by the job two before, whose
// block has not been consumed yet: a short job's writes may still be in this pipeline, nor busy,
// i.e. still read by the array's skewed rows); claim pulses (bank) when a job starts, fill (bank)
// with the job's last write.
`default_nettype none

module attn_loader
  import model_pkg::*;
#(
    parameter int L    = LINEAR_IN,
    parameter int TMAX = NUM_TOKENS,
    parameter int H    = NUM_HEADS,
    parameter int DB   = HEAD_DIM / L,             // dim blocks per head (= output blocks)
    parameter int WPR  = FEATURE_DIM / L,
    parameter int KVW  = ATTENTION_KV_W,           // K and V in the store
    parameter int BW   = 18,                       // the array's B port
    parameter int NP   = attn_pkg::KV_PASSES,      // writes per word: 2 (hi / lo split) or 1 (whole)
    parameter int SPLIT = 10,                      // NP = 2: x = hi * 2^SPLIT + lo
    parameter int HALF = attn_pkg::stationary_depth(DB, (TMAX + L - 1) / L) / 2,
    parameter int DAW  = $clog2(2 * HALF),
    parameter int AWD  = $clog2(TMAX * WPR),
    parameter int HW   = H > 1 ? $clog2(H) : 1
) (
    input  logic                clk,
    input  logic                rst_n,         // synchronous, active low
    input  logic                start,
    input  logic [7:0]          t_m1,          // T - 1
    input  logic [3:0]          kb_m1,         // KB - 1 (KB = ceil(T / L))
    input  logic                ph_in,         // one cycle: the store holds the next phase's input
    input  logic [1:0]          free,          // bank neither claimed by a job not yet consumed nor still read
                                               // by the array (!held && !busy: a register of attention_core)
    output logic                claim,         // one cycle: a job starts on claim_bank
    output logic                claim_bank,
    output logic [AWD-1:0]      kv_raddr,
    input  logic [L*KVW-1:0]    k_rdata,
    input  logic [L*KVW-1:0]    v_rdata,
    output logic                fill,          // one cycle: a job's last write is presented
    output logic                fill_bank,
    output logic                ld_valid,
    output logic [DAW-1:0]      ld_addr,
    output logic [L-1:0]        ld_row,
    output logic [L-1:0]        ld_col,
    output logic [L*L*BW-1:0]   ld_data
);
  localparam int LG  = $clog2(L);
  localparam int LG1 = (LG + 1) / 2;               // butterfly stages before the middle register
  localparam int EW  = $clog2(HALF);

  if ((1 << LG) != L || DB * L != HEAD_DIM || WPR * L != FEATURE_DIM || (NP != 1 && NP != 2) ||
      (NP == 2 && (KVW - SPLIT > BW - 1 || SPLIT >= BW)) || (NP == 1 && KVW > BW) ||
      DAW > 8 || (TMAX + L - 1) / L > 15) begin : g_chk
    $error("attn_loader: L must be a power of two dividing the head dim, K / V must fit the B port whole (NP = 1) or split into B-port parts (NP = 2)");
  end


  // ---- job walk: phase (attn_phase), block, bank
  logic          is_av, ph_done, ph_adv, run;
  logic [HW-1:0] head;
  attn_phase #(.H(H), .HW(HW)) u_phase (
      .clk(clk), .rst_n(rst_n), .start(start), .adv(ph_adv), .is_av(is_av), .head(head), .done(ph_done));

  logic [3:0]     blk;          // kb (QK) or ob (AV)
  logic           bank;
  logic [AWD-1:0] blk_row;      // kb * L * WPR (QK: the block's first key row in the store)
  logic [AWD-1:0] hoff;         // h * DB: the head's first word in a row
  logic [7:0]     t, t_end;     // current key, last key of the job
  logic           t_one;        // t_m1 == 0 (T = 1), a register: t_m1 is constant from start on
  logic [AWD-1:0] trow;         // t * WPR
  logic [3:0]     w;            // QK: dim block db; AV: the output block
  logic           t_adv;        // is_av || w == DB - 1 (the word is the key's last: t moves on), registered with w
  logic           ph;           // a word every other cycle
  logic lblk_qk, lblk_av;        // blk == kb_m1, blk == DB - 1: registered with blk (no compare on can_start's
                                 // data or ph_adv; kb_m1 is set before start)
  wire  last_blk  = is_av ? lblk_av : lblk_qk;
  logic ph_ok;                   // the current phase's input is in the store (below)
  wire  can_start = !run && !ph_done && ph_ok && free[bank];
  assign claim      = can_start;
  assign claim_bank = bank;
  logic issue;                   // run && !ph, registered from their next values (the assertion below): one
                                 // flip-flop in front of the walk's enables instead of a gate
  // last_word == (t == t_end && (is_av || w == DB - 1)) in every issue cycle (the assertion below): set
  // with the job's first word while !run, then recomputed in each cycle between two issues (ph = 1,
  // when t and w already hold the next word), so no compare sits behind issue / can_start
  logic last_word;
  assign ph_adv   = issue && last_word && last_blk;

  // Phases whose input is in the store and which the walk has not left: counted up by ph_in, down by
  // ph_adv (the store's phases and the walk go in the same order, so the walk's current phase is in
  // iff the count is not 0). ph_ok is that flag registered from the count's next value: a phase's
  // first job can start the cycle after its last word is written, as with one flag for the layer.
  // Both next values (with and without ph_adv) are formed from flip-flops (ph_in is two), then
  // selected by ph_adv (from the walk's flags: the adder and the compare behind ph_adv were 5 LUT and
  // a carry, 3.22 ns on tiny).
  localparam int CW = $clog2(2 * H + 1);
  logic [CW-1:0] ph_avail;
  (* keep *) wire [CW-1:0] av_in  = ph_avail + CW'(ph_in);                  // no ph_adv
  (* keep *) wire [CW-1:0] av_out = ph_avail + CW'(ph_in) - CW'(1);         // ph_adv
  (* keep *) wire          ok_in  = ph_avail != '0 || ph_in;                  // av_in != 0
  (* keep *) wire          ok_out = ph_avail > CW'(1) || (ph_avail == CW'(1) && ph_in);   // av_out != 0
  always_ff @(posedge clk) begin
    if (!rst_n || start) begin
      ph_avail <= '0;
      ph_ok    <= 1'b0;
    end else begin
      ph_avail <= ph_adv ? av_out : av_in;
      ph_ok    <= ph_adv ? ok_out : ok_in;
    end
  end
`ifndef SYNTHESIS
  always_ff @(posedge clk)
    if (rst_n && !start && ph_adv && ph_avail == '0 && !ph_in) $error("attn_loader: a phase left before its input was in");
`endif

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run <= 1'b0;
    end else if (start) begin
      run <= 1'b0;
    end else if (can_start) begin
      run <= 1'b1;
    end else if (issue && last_word) begin
      run <= 1'b0;
    end
    // next run && !ph: a job's first word right after can_start (ph <= 0), then every other cycle while
    // run (ph toggles; run drops only at an issue, when ph becomes 1)
    if (!rst_n || start) issue <= 1'b0;
    else issue <= can_start || (run && !issue);
  end

  always_ff @(posedge clk) begin
    if (start) begin
      blk     <= '0;
      lblk_qk <= kb_m1 == 4'd0;
      lblk_av <= DB == 1;
      bank    <= 1'b0;
      blk_row <= '0;
    end else if (issue && last_word) begin
      bank <= !bank;
      if (last_blk) begin
        blk     <= '0;
        lblk_qk <= kb_m1 == 4'd0;
        lblk_av <= DB == 1;
        blk_row <= '0;
      end else begin
        blk     <= blk + 4'd1;
        lblk_qk <= blk + 4'd1 == kb_m1;
        lblk_av <= blk + 4'd1 == 4'(DB - 1);
        blk_row <= blk_row + AWD'(L * WPR);
      end
    end
    hoff  <= AWD'(attn_pkg::mul_const(32'(head), DB));
    t_one <= t_m1 == 8'd0;
    // The job's first word is loaded in every cycle without a job (!run), not only at can_start: these
    // registers are read only while run (issue, the compare between issues), and their sources (is_av,
    // blk, lblk_qk, blk_row) are the next job's from the cycle after a job's end; the last load, in the
    // can_start cycle, is the job's. So can_start (and free[bank]) are not in front of their enables.
    if (!run) begin
      ph    <= 1'b0;
      w     <= is_av ? blk : 4'd0;
      t_adv <= is_av || DB == 1;
      t     <= is_av ? 8'd0 : 8'(blk) << LG;
      trow  <= is_av ? '0 : blk_row;
      t_end <= (is_av || lblk_qk) ? t_m1 : (8'(blk) << LG) + 8'(L - 1);   // is_av || last_blk
      // first word: AV t = 0, t_end = T - 1; QK t = blk L, w = 0, t_end = T - 1 (last block) or blk L + L - 1
      last_word <= is_av ? t_one : DB == 1 && lblk_qk && t_m1 == 8'(blk) << LG;
    end else if (run) begin
      ph <= !ph;
      if (issue) begin
        if (!t_adv) begin
          w     <= w + 4'd1;
          t_adv <= w == 4'(DB - 2);       // QK: (w + 1 == DB - 1) mod 16
        end else begin
          w     <= is_av ? w : 4'd0;
          t_adv <= is_av || DB == 1;
          t     <= t + 8'd1;
          trow  <= trow + AWD'(WPR);
        end
      end else begin
        last_word <= t == t_end && t_adv;   // the next issue's word (t, w moved at the issue)
      end
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (rst_n && issue != (run && !ph)) $error("attn_loader: issue differs from run && !ph");
    if (rst_n && run && t_adv != (is_av || w == 4'(DB - 1))) $error("attn_loader: t_adv differs from is_av || w == DB - 1");
    if (rst_n && !start && issue && last_word != (t == t_end && (is_av || w == 4'(DB - 1))))
      $error("attn_loader: last_word differs from t == t_end && (is_av || w == DB - 1)");
    if (rst_n && !start && !ph_done && (lblk_qk != (blk == kb_m1) || lblk_av != (blk == 4'(DB - 1))))
      $error("attn_loader: lblk_qk / lblk_av differ from blk == kb_m1 / blk == DB - 1");
  end
`endif

  // ---- read (cycle k), tag pipeline to the permuted word (k + 4)
  // tag: {last word of the job, bank, av, entry (pre part), key place p}
  localparam int TW = 1 + 1 + 1 + EW + LG;
  logic [TW-1:0] tag [5];
  logic [4:0]    tv;
  wire  [EW-1:0] entry = NP == 1 ? (is_av ? EW'(t[7:LG]) : EW'(w)) : (is_av ? EW'({t[7:LG], 1'b0}) : EW'({w, 1'b0}));
  always_ff @(posedge clk) begin
    if (issue) kv_raddr <= trow + hoff + AWD'(w);   // held: the word stays on the bus for both writes
    if (issue) tag[0] <= {last_word, bank, is_av, entry, t[LG-1:0]};  // held too: both cycles see the word's p
    for (int s = 1; s < 5; s++) tag[s] <= tag[s-1];
    if (!rst_n || start) tv <= '0;
    else tv <= {tv[3:0], issue};
  end
  // tv[0]: address presented (cycle k + 1 after the issue edge); data valid with tv[1] + 1
  wire [TW-1:0] tag2 = tag[2];
  wire [TW-1:0] tag4 = tag[4];
  wire [LG-1:0] p2 = tag2[LG-1:0];

  // ---- permutation y[m] = x[m ^ p]: stages 0 .. LG1-1, register, stages LG1 .. LG-1, register
  logic [KVW-1:0] x0 [L];
  logic [KVW-1:0] z1 [L];
  logic [KVW-1:0] y2 [L];
  logic [LG-1:0]  p3;
  always_comb begin
    for (int m = 0; m < L; m++) x0[m] = tag2[LG+EW] ? v_rdata[m*KVW +: KVW] : k_rdata[m*KVW +: KVW];
  end
  always_ff @(posedge clk) begin
    logic [KVW-1:0] s [L];
    logic [KVW-1:0] n [L];
    s = x0;
    for (int b = 0; b < LG1; b++) begin
      for (int m = 0; m < L; m++) n[m] = p2[b] ? s[m ^ (1 << b)] : s[m];
      s = n;
    end
    z1 <= s;
    p3 <= p2;
    s = z1;
    for (int b = LG1; b < LG; b++) begin
      for (int m = 0; m < L; m++) n[m] = p3[b] ? s[m ^ (1 << b)] : s[m];
      s = n;
    end
    y2 <= s;
  end

  // ---- writes: hi (or the whole value) in the cycle after the word is permuted, lo in the next
  logic [BW-1:0] yd [L];
  wire  [LG-1:0] p4 = tag4[LG-1:0];
  if (NP == 2) begin : g_split
    logic          lo_next, lo_last, lo_bank;
    logic [EW-1:0] lo_entry;
    always_ff @(posedge clk) begin
      if (!rst_n || start) begin
        ld_valid <= 1'b0;
        lo_next  <= 1'b0;
        fill     <= 1'b0;
      end else begin
        ld_valid <= tv[4] || lo_next;
        lo_next  <= tv[4];
        fill     <= lo_next && lo_last;
      end
      if (tv[4]) begin
        for (int m = 0; m < L; m++) yd[m] <= BW'($signed(y2[m][KVW-1:SPLIT]));
        ld_addr  <= (tag4[TW-2] ? DAW'(HALF) : '0) + DAW'(tag4[LG +: EW]);
        ld_row   <= tag4[LG+EW] ? L'(1) << p4 : '1;
        ld_col   <= tag4[LG+EW] ? '1 : L'(1) << p4;
        lo_last  <= tag4[TW-1];
        lo_bank  <= tag4[TW-2];
        lo_entry <= tag4[LG +: EW];
      end else if (lo_next) begin
        for (int m = 0; m < L; m++) yd[m] <= BW'(y2[m][SPLIT-1:0]);
        ld_addr  <= DAW'(lo_entry) + DAW'(1) + (lo_bank ? DAW'(HALF) : '0);
        fill_bank <= lo_bank;
      end
    end
  end else begin : g_whole
    // one write per word: the tile is full with the job's last word's write (a cycle before the split's)
    always_ff @(posedge clk) begin
      if (!rst_n || start) begin
        ld_valid <= 1'b0;
        fill     <= 1'b0;
      end else begin
        ld_valid <= tv[4];
        fill     <= tv[4] && tag4[TW-1];
      end
      if (tv[4]) begin
        for (int m = 0; m < L; m++) yd[m] <= BW'($signed(y2[m]));
        ld_addr   <= (tag4[TW-2] ? DAW'(HALF) : '0) + DAW'(tag4[LG +: EW]);
        ld_row    <= tag4[LG+EW] ? L'(1) << p4 : '1;
        ld_col    <= tag4[LG+EW] ? '1 : L'(1) << p4;
        fill_bank <= tag4[TW-2];
      end
    end
  end

  for (genvar i = 0; i < L; i++) begin : g_ld_row
    for (genvar o = 0; o < L; o++) begin : g_ld_col
      assign ld_data[(i*L + o)*BW +: BW] = yd[i ^ o];
    end
  end
endmodule

`default_nettype wire
