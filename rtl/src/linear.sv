// Unified compute unit (the linear engine), bit-exact to python_ref.kernels.linear.compute_linear:
//   acc = act(b[o]);  acc += act(x[i] * W[o][i]) for every i;  y = gelu ? GELU(acc) : acc
//   store: out = y;  accumulate: out = act(prev + y);  scaled: out = act(prev + act(score * y))
// act = floor to the activation grid, wrap to ACT_W bits (AP_TRN / AP_WRAP), so every sum is
// modulo 2^ACT_W and the order / grouping of the additions is free (linear_mac's adder tree).
//
// Schedule (Edge-MoE): weights stationary per output block. For output block ob (LO outputs), for
// every processed row k, for every in-block ib: one LO x LI tile per cycle (linear_mac). The row's
// activations arrive on x_ once, during ob = 0, and are kept in the on-chip activation buffer
// (MAX_ROWS x MAX_IN) for ob >= 1. The weights of block ob+1 (and its biases) load into the other
// half of a ping-pong tile buffer while block ob computes. Output beats come out block-major:
// (ob, k) ascending, one beat of LO values each.
//
// Control (Vitis ap_ctrl_hs style): with ap_idle high, ap_start latches the scalar arguments
// in_dim, out_dim, rows (>= 1; rows * ceil(in_dim/LI) <= MAX_ROWS * ceil(MAX_IN/LI),
// rows <= MAX_ROWS, in_dim <= MAX_IN), w_kind (0 weight_t, 1 patch_weight_t), b_kind (0 bias_t, 1 attn_bias_t),
// use_gelu, mode (0 store, 1 accumulate, 2 scaled accumulate). ap_done pulses for one cycle after
// the layer's last output beat; the engine is idle again in that cycle.
//
// Streams (AXI-Stream; inputs' TLAST ignored, the engine counts):
//   w_   the weight matrix exactly as in memory (python_ref pack_matrix_axi): W[out][in] row-major,
//        AXI_WIDTH-bit words, E = AXI_WIDTH / WEIGHT_W weights per word, rows padded to whole
//        words, read front to back once per layer (a plain DMA of the image).
//   b_   the bias vector exactly as in memory (pack_vector_axi), front to back once per layer.
//   x_   LI activations (act_t) per beat: for k in processing order, the row's ceil(in/LI) blocks;
//        lanes past in_dim are ignored (masked to 0). The host streams the gathered rows in list
//        order (gather = the order of this stream). Patch embedding: pixels converted to act_t.
//   acc_ (mode 1, 2) LO values per beat, the previous out[t] block for each (ob, k), t = scatter[k],
//        in the output order; lanes past out_dim ignored. Targets must be distinct within a call.
//   s_   (mode 2) one score (act_t) per processed row, k ascending, consumed during ob = 0 and
//        kept on chip (MAX_ROWS entries) for the later blocks.
//   y_   LO values per beat, (ob, k) ascending, lanes past out_dim are 0; TLAST on the last row
//        of every output block. The host writes beat (ob, k) to out[t][ob*LO +: LO].
// Every input is consumed with backpressure (TREADY low while the engine waits), and y_TREADY low
// stalls the engine without loss. TREADYs depend on engine state only, except acc_TREADY /
// s_TREADY, which also wait for each other's TVALID (the join of the output stage).
//
// Timing (no stalls, cycles from the ap_start edge to the ap_done edge): the load of block 0
// (max(LO bias steps, rows_in_block * ceil(in/E) * E/SEG weight steps), side by side) + rows *
// ceil(out/LO) * ceil(in/LI) tiles + 11 pipeline cycles (+ the GELU unit's 8 with use_gelu), as
// long as every later block loads no slower than the previous one computes (rows * ceil(in/LI)
// cycles); otherwise each later block waits for its weights. cosim/test_linear.py checks the
// exact model (predicted_cycles) on every unstalled call.
`default_nettype none

module linear
  import model_pkg::*;
#(
    parameter int LI = LINEAR_IN,
    parameter int LO = LINEAR_OUT,
    // capacity of the activation buffer: the widest input of any layer of the config, the tokens
    parameter int MAX_IN = LINEAR_MAX_IN,
    parameter int MAX_ROWS = LINEAR_MAX_ROWS,
    parameter int FIFO_DEPTH = 8
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
    input  logic [AXI_WIDTH-1:0]      w_TDATA,
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
    output logic                      y_TLAST
);
  // ---- formats (linear_w_t of hls/src/linear.h: holds weight_t and patch_weight_t exactly)
  localparam int AW  = ACT_W;
  localparam int AF  = ACT_W - ACT_I;
  localparam int WW  = LINEAR_W_W;                 // weight operand (linear_config::w_t)
  localparam int WF  = LINEAR_W_W - LINEAR_W_I;
  localparam int WFW = WEIGHT_W - WEIGHT_I;        // fraction bits of a weight / patch weight in memory
  localparam int WFP = PATCH_WEIGHT_W - PATCH_WEIGHT_I;
  localparam int SW  = WEIGHT_W;                   // weight lane in the stream
  localparam int E   = AXI_WIDTH / SW;             // weights per word
  localparam int SEG = E < LI ? E : LI;            // weights written per loader step
  localparam int QW  = E / SEG;                    // segments per word
  localparam int SPT = LI / SEG;                   // segments per tile row
  localparam int BW  = BIAS_W;
  localparam int EB  = AXI_WIDTH / BW;             // biases per word
  localparam int FB  = BIAS_W - BIAS_I;
  localparam int FAB = ATTN_BIAS_W - ATTN_BIAS_I;
  // ---- geometry
  localparam int DW     = 16;                      // dimension ports
  localparam int CW     = DW + 1;                  // bases (multiples of LI / LO / E) may pass 2^16
  localparam int MAX_IB = (MAX_IN + LI - 1) / LI;
  localparam int IBW    = MAX_IB > 1 ? $clog2(MAX_IB) : 1;
  localparam int ADEPTH = MAX_ROWS * MAX_IB;
  localparam int AAW    = ADEPTH > 1 ? $clog2(ADEPTH) : 1;
  localparam int SAW    = MAX_ROWS > 1 ? $clog2(MAX_ROWS) : 1;
  localparam int RW     = LO > 1 ? $clog2(LO) : 1;
  localparam int QWW    = QW > 1 ? $clog2(QW) : 1;
  localparam int SJW    = SPT > 1 ? $clog2(SPT) : 1;
  localparam int BLW    = EB > 1 ? $clog2(EB) : 1;
  localparam int CRW    = $clog2(FIFO_DEPTH + 1);
  localparam logic [CW-1:0] LI_C = CW'(LI);
  localparam logic [CW-1:0] LO_C = CW'(LO);
  localparam logic [CW-1:0] E_C  = CW'(E);

  if (AXI_WIDTH % SW != 0 || WEIGHT_W != PATCH_WEIGHT_W || AXI_WIDTH % BW != 0 || BIAS_W != ATTN_BIAS_W)
  begin : g_chk_layout
    $error("linear: weights / biases must pack evenly into AXI words and share one lane width");
  end
  if (E % LI != 0 && LI % E != 0) begin : g_chk_seg
    $error("linear: a tile row (LI %0d) must be a whole number of words or a word (%0d weights) a whole number of tile rows", LI, E);
  end
  if (AF < FB || AF < FAB || ACT_I < BIAS_I || ACT_I < ATTN_BIAS_I || WF < WFW || WF < WFP) begin : g_chk_exact
    $error("linear: the bias / weight conversions to act_t / linear_w_t must be exact");
  end
  if (LI < 1 || LO < 1 || MAX_ROWS < 1 || MAX_IN < 1 || FIFO_DEPTH < 4) begin : g_chk_geom
    $error("linear: bad geometry LI %0d LO %0d MAX_ROWS %0d MAX_IN %0d FIFO_DEPTH %0d", LI, LO, MAX_ROWS, MAX_IN,
           FIFO_DEPTH);
  end

  // ------------------------------------------------------------------------------------------
  // Control
  logic          busy, done_fire;
  logic [DW-1:0] in_r, out_r, rows_r;
  logic          wk_r, bk_r, gelu_r;
  logic [1:0]    mode_r;
  wire           start = ap_start && !busy;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      busy    <= 1'b0;
      ap_done <= 1'b0;
    end else begin
      ap_done <= done_fire;
      if (start) busy <= 1'b1;
      else if (done_fire) busy <= 1'b0;
    end
  end
  always_ff @(posedge ap_clk) begin
    if (start) begin
      in_r   <= in_dim;
      out_r  <= out_dim;
      rows_r <= rows;
      wk_r   <= w_kind;
      bk_r   <= b_kind;
      gelu_r <= use_gelu;
      mode_r <= mode;
    end
  end
  assign ap_idle  = !busy;
  assign ap_ready = ap_done;

  wire [CW-1:0] in_c  = {1'b0, in_r};
  wire [CW-1:0] out_c = {1'b0, out_r};

  // ------------------------------------------------------------------------------------------
  // Loader: the LO biases (one per cycle, from b_) and the weight rows (one segment per cycle, from
  // w_) of block lb load side by side into bank lbank; the block is handed over when both are in.
  logic          full [2];        // bank holds a loaded block not yet fully issued
  logic [CW-1:0] lbase;           // lb * LO
  logic          lbank;
  logic [RW-1:0] lb_i;            // bias index within the block
  logic          bdone, wdone;    // this block's biases / weights are in
  logic [BLW-1:0] bl;             // lane of the current bias word
  logic [RW-1:0] lr;              // weight row within the block
  logic [CW-1:0] lcbase;          // first column of the current weight word
  logic [QWW-1:0] lq;             // segment within the word
  logic [IBW-1:0] sib;            // tile-buffer entry (in-block) of the segment
  logic [SJW-1:0] sj;             // segment within the tile row

  wire           l_active   = busy && lbase < out_c && !full[lbank];
  wire [CW-1:0]  bj         = lbase + CW'(lb_i);
  wire           b_in       = bj < out_c;
  wire           b_lastlane = (32'(bl) == EB - 1) || (bj + 1'b1 == out_c);
  wire           b_step     = l_active && !bdone && (!b_in || b_TVALID);
  wire           b_fin      = b_step && 32'(lb_i) == LO - 1;
  wire [CW-1:0]  wj         = lbase + CW'(lr);
  wire           row_last   = (32'(lr) == LO - 1) || (wj + 1'b1 >= out_c);
  wire [CW-1:0]  scol       = lcbase + CW'(32'(lq) * SEG);
  wire           seg_in     = scol < in_c;
  wire           word_last  = lcbase + E_C >= in_c;
  wire           q_last     = 32'(lq) == QW - 1;
  wire           w_step     = l_active && !wdone && w_TVALID;
  wire           w_fin      = w_step && q_last && word_last && row_last;
  wire           l_fin      = (bdone || b_fin) && (wdone || w_fin);

  assign b_TREADY = l_active && !bdone && b_in && b_lastlane;
  assign w_TREADY = l_active && !wdone && q_last;

  // bias lane -> act_t (exact: sign-extend, shift by the fraction difference)
  logic [BW-1:0] b_raw;
  logic [AW-1:0] b_act;
  assign b_raw = b_TDATA[32'(bl) * BW +: BW];
  assign b_act = bk_r ? (AW'($signed(b_raw)) << (AF - FAB)) : (AW'($signed(b_raw)) << (AF - FB));

  // weight segment -> SEG linear_w_t values
  logic [SEG*SW-1:0] w_seg_raw;
  logic [SEG*WW-1:0] w_seg;
  assign w_seg_raw = w_TDATA[32'(lq) * (SEG * SW) +: SEG * SW];
  for (genvar s = 0; s < SEG; s++) begin : g_wconv
    wire [SW-1:0] raw = w_seg_raw[s*SW +: SW];
    assign w_seg[s*WW +: WW] = wk_r ? (WW'($signed(raw)) << (WF - WFP)) : (WW'($signed(raw)) << (WF - WFW));
  end

  // biases of both banks: plain registers (LO parallel reads; as a memory, Yosys' memory_libmap
  // throws on it at LO = 16)
  logic [2*LO*AW-1:0] bbuf;

  // compute-side handshake with the loader (declared here, driven below)
  logic          cbank, c_block_done;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n || start) begin
      full[0] <= 1'b0;
      full[1] <= 1'b0;
      lbase   <= '0;
      lbank   <= 1'b0;
      lb_i    <= '0;
      bdone   <= 1'b0;
      wdone   <= 1'b0;
      bl      <= '0;
      lr      <= '0;
      lcbase  <= '0;
      lq      <= '0;
      sib     <= '0;
      sj      <= '0;
    end else begin
      if (c_block_done) full[cbank] <= 1'b0;
      if (b_step) begin
        for (int o = 0; o < LO; o++) begin
          if (32'(lb_i) == o) bbuf[(32'(lbank) * LO + o) * AW +: AW] <= b_in ? b_act : '0;
        end
        if (b_in && b_TVALID) bl <= (32'(bl) == EB - 1) ? '0 : bl + 1'b1;
        lb_i <= b_fin ? '0 : lb_i + 1'b1;
        if (b_fin) bdone <= 1'b1;
      end
      if (w_step) begin
        if (32'(sj) == SPT - 1) begin
          sj  <= '0;
          sib <= sib + 1'b1;
        end else begin
          sj <= sj + 1'b1;
        end
        if (!q_last) begin
          lq <= lq + 1'b1;
        end else begin
          lq <= '0;
          if (!word_last) begin
            lcbase <= lcbase + E_C;
          end else begin  // row complete
            lcbase <= '0;
            sib    <= '0;
            sj     <= '0;
            lr     <= row_last ? '0 : lr + 1'b1;
            if (row_last) wdone <= 1'b1;
          end
        end
      end
      if (l_fin) begin  // block complete: hand the bank to the compute side
        full[lbank] <= 1'b1;
        lbank       <= !lbank;
        lbase       <= lbase + LO_C;
        bdone       <= 1'b0;
        wdone       <= 1'b0;
      end
    end
  end

  // ------------------------------------------------------------------------------------------
  // Tile buffer: one memory per (tile row r, segment j), 2 banks x 2^IBW entries of SEG weights
  logic          fire;
  logic [IBW-1:0] cib;
  logic [LO*LI*WW-1:0] wtile;   // registered read: the tile issued in the previous cycle

  for (genvar r = 0; r < LO; r++) begin : g_wrow
    for (genvar j = 0; j < SPT; j++) begin : g_wseg
      logic [SEG*WW-1:0] mem [2 << IBW];
      logic [SEG*WW-1:0] rd;
      always_ff @(posedge ap_clk) begin
        if (w_step && seg_in && 32'(lr) == r && 32'(sj) == j) mem[{lbank, sib}] <= w_seg;
        if (fire) rd <= mem[{cbank, cib}];
      end
      assign wtile[(r*LI + j*SEG)*WW +: SEG*WW] = rd;
    end
  end

  // ------------------------------------------------------------------------------------------
  // Issue: one tile per cycle, (block, row, in-block) ascending
  logic [CW-1:0]  cbase;           // cb * LO
  logic [DW-1:0]  ck;              // row
  logic [CW-1:0]  cibase;          // cib * LI
  logic [AAW-1:0] ca;              // activation buffer address = ck * n_ib + cib
  logic           cfirst;          // block 0: activations from x_, written to the buffer
  logic [CRW-1:0] credits;         // free output FIFO entries not yet claimed
  logic           f_pop;

  wire c_active  = busy && cbase < out_c && full[cbank];
  wire c_last_ib = cibase + LI_C >= in_c;
  wire c_row_end = ck + 1'b1 == rows_r;
  wire c_can     = c_active && (!c_last_ib || credits != '0);
  assign fire         = c_can && (!cfirst || x_TVALID);
  assign x_TREADY     = c_can && cfirst;
  assign c_block_done = fire && c_last_ib && c_row_end;

  logic [LI*AW-1:0] xm;  // x with the lanes past in_dim zeroed (padding of the last in-block)
  for (genvar i = 0; i < LI; i++) begin : g_xmask
    assign xm[i*AW +: AW] = (cibase + CW'(i) < in_c) ? x_TDATA[i*AW +: AW] : '0;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n || start) begin
      cbase   <= '0;
      ck      <= '0;
      cib     <= '0;
      cibase  <= '0;
      ca      <= '0;
      cbank   <= 1'b0;
      cfirst  <= 1'b1;
      credits <= CRW'(FIFO_DEPTH);
    end else begin
      credits <= credits - CRW'(fire && c_last_ib) + CRW'(f_pop);
      if (fire) begin
        if (!c_last_ib) begin
          cib    <= cib + 1'b1;
          cibase <= cibase + LI_C;
          ca     <= ca + 1'b1;
        end else begin
          cib    <= '0;
          cibase <= '0;
          if (!c_row_end) begin
            ck <= ck + 1'b1;
            ca <= ca + 1'b1;
          end else begin
            ck     <= '0;
            ca     <= '0;
            cbase  <= cbase + LO_C;
            cbank  <= !cbank;
            cfirst <= 1'b0;
          end
        end
      end
    end
  end

  // activation buffer (rows x in-blocks), written during block 0, read by the later blocks; one
  // block RAM per lane (Yosys' memory mapper picks distributed RAM for, or crashes on, one
  // LI*ACT_W-bit wide memory of this depth)
  logic [LI*AW-1:0] ard, xs1;
  logic [LO*AW-1:0] bias1;
  logic             v1, first1, last1, src1;
  for (genvar i = 0; i < LI; i++) begin : g_abuf
    (* ram_style = "block" *) logic [AW-1:0] mem [ADEPTH];
    always_ff @(posedge ap_clk) begin
      if (fire && cfirst) mem[ca] <= xm[i*AW +: AW];
      if (fire && !cfirst) ard[i*AW +: AW] <= mem[ca];
    end
  end
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) v1 <= 1'b0;
    else v1 <= fire;
    if (fire) begin
      first1 <= cib == '0;
      last1  <= c_last_ib;
      src1   <= cfirst;
      xs1    <= xm;
      if (cib == '0) begin
        bias1 <= cbank ? bbuf[LO*AW +: LO*AW] : bbuf[0 +: LO*AW];
      end
    end
  end

  // ------------------------------------------------------------------------------------------
  // MAC array and the output FIFO (credits: an issued last in-block owns a FIFO entry)
  logic             m_valid;
  logic [LO*AW-1:0] m_y;
  linear_mac #(.LI(LI), .LO(LO), .AW(AW), .WF(WF), .WW(WW)) u_mac (
      .ap_clk   (ap_clk),
      .ap_rst_n (ap_rst_n),
      .in_valid (v1),
      .in_first (first1),
      .in_last  (last1),
      .in_x     (src1 ? xs1 : ard),
      .in_w     (wtile),
      .in_bias  (bias1),
      .out_valid(m_valid),
      .out_y    (m_y)
  );

  logic [LO*AW-1:0] f_data;
  logic             f_valid, f_ready;
  linear_fifo #(.WIDTH(LO * AW), .DEPTH(FIFO_DEPTH)) u_fifo (
      .clk    (ap_clk),
      .rst_n  (ap_rst_n),
      .s_axis_tdata (m_y),
      .s_axis_tvalid(m_valid),
      .m_axis_tdata (f_data),
      .m_axis_tvalid(f_valid),
      .m_axis_tready(f_ready)
  );
  assign f_pop = f_valid && f_ready;

  // ------------------------------------------------------------------------------------------
  // Optional GELU on the LO lanes, selected per layer (the pipeline is empty between layers). GN
  // instances of GL <= 8 lanes run in lockstep (same valid / ready, so their states stay equal):
  // Yosys' memory_libmap throws on one GELU table ROM with 16 read ports (gelu LANES = 16).
  localparam int GN = (LO + 7) / 8;
  localparam int GL = (LO + GN - 1) / GN;
  logic [LO*AW-1:0]      g_data, z_data;
  logic                  g_in_ready, g_valid, g_ready, z_valid, z_ready;
  logic [GN*GL*AW-1:0]   g_in, g_out;
  logic [GN-1:0]         g_in_ready_v, g_valid_v, g_last_v;
  logic [GN*GL*AW/8-1:0] g_keep, g_strb;
  assign g_in = (GN * GL * AW)'(f_data);
  for (genvar g = 0; g < GN; g++) begin : g_gelu
    gelu #(.LANES(GL)) u_gelu (
        .ap_clk  (ap_clk),
        .ap_rst_n(ap_rst_n),
        .x_TDATA (g_in[g*GL*AW +: GL*AW]),
        .x_TVALID(f_valid && gelu_r),
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
  assign g_data     = g_out[LO*AW-1:0];
  assign f_ready = gelu_r ? g_in_ready : z_ready;
  assign z_valid = gelu_r ? g_valid : f_valid;
  assign z_data  = gelu_r ? g_data : f_data;
  assign g_ready = gelu_r && z_ready;

  // ------------------------------------------------------------------------------------------
  // Output stage: join with acc_ / s_, scale, accumulate, mask lanes past out_dim; 3 stages with
  // one clock enable, then a register slice.
  logic [CW-1:0]  obase;   // output block of the next beat
  logic [DW-1:0]  ok;      // row of the next beat
  logic           v_o1, v_o2, v_o3, sk_ready;
  wire            o_ce     = !v_o3 || sk_ready;
  wire            need_acc = mode_r != 2'd0;
  wire            need_s   = mode_r == 2'd2 && obase == '0;
  wire            acc_ok   = !need_acc || acc_TVALID;
  wire            s_ok     = !need_s || s_TVALID;
  assign z_ready    = busy && o_ce && acc_ok && s_ok;
  assign acc_TREADY = busy && o_ce && need_acc && z_valid && s_ok;
  assign s_TREADY   = busy && o_ce && need_s && z_valid && acc_ok;
  wire            take     = z_valid && z_ready;
  wire            o_eob    = ok + 1'b1 == rows_r;

  logic [AW-1:0]    sbuf [MAX_ROWS];
  logic [AW-1:0]    score1;
  logic [LO*AW-1:0] z1, prev1, t2, prev2, y3;
  logic [LO-1:0]    lm1, lm2;
  logic             eob1, eol1, eob2, eol2, eob3, eol3;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n || start) begin
      obase <= '0;
      ok    <= '0;
    end else if (take) begin
      if (o_eob) begin
        ok    <= '0;
        obase <= obase + LO_C;
      end else begin
        ok <= ok + 1'b1;
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      {v_o1, v_o2, v_o3} <= '0;
    end else if (o_ce) begin
      {v_o1, v_o2, v_o3} <= {take, v_o1, v_o2};
    end
  end

  always_ff @(posedge ap_clk) begin
    if (take && need_s) sbuf[ok[SAW-1:0]] <= s_TDATA;
    if (o_ce) begin
      // O1: operands
      z1     <= z_data;
      prev1  <= acc_TDATA;
      score1 <= need_s ? s_TDATA : sbuf[ok[SAW-1:0]];
      for (int j = 0; j < LO; j++) lm1[j] <= obase + CW'(j) < out_c;
      eob1   <= o_eob;
      eol1   <= o_eob && obase + LO_C >= out_c;
      // O2: act(score * y)
      for (int j = 0; j < LO; j++) begin
        /* verilator lint_off UNUSEDSIGNAL */
        logic signed [2*AW-1:0] p;  // the low AF bits are floored away, the top ones wrapped away
        /* verilator lint_on UNUSEDSIGNAL */
        p = $signed(score1) * $signed(z1[j*AW +: AW]);
        t2[j*AW +: AW] <= mode_r == 2'd2 ? p[AF +: AW] : z1[j*AW +: AW];
      end
      prev2 <= prev1;
      lm2   <= lm1;
      eob2  <= eob1;
      eol2  <= eol1;
      // O3: act(prev + addend), lanes past out_dim zero
      for (int j = 0; j < LO; j++) begin
        y3[j*AW +: AW] <= !lm2[j] ? '0 : mode_r == 2'd0 ? t2[j*AW +: AW] : prev2[j*AW +: AW] + t2[j*AW +: AW];
      end
      eob3 <= eob2;
      eol3 <= eol2;
    end
  end

  logic y_eol;
  axis_skid #(.WIDTH(LO * AW + 2)) u_out (
      .clk    (ap_clk),
      .rst_n  (ap_rst_n),
      .s_axis_tdata ({eol3, eob3, y3}),
      .s_axis_tvalid(v_o3),
      .s_axis_tready(sk_ready),
      .m_axis_tdata ({y_eol, y_TLAST, y_TDATA}),
      .m_axis_tvalid(y_TVALID),
      .m_axis_tready(y_TREADY)
  );
  assign done_fire = y_TVALID && y_TREADY && y_eol;

  wire unused_ok = &{1'b0, x_TLAST, w_TLAST, b_TLAST, acc_TLAST, s_TLAST, g_last_v, g_keep, g_strb, g_out};
endmodule

`default_nettype wire
