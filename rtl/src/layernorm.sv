// LayerNorm unit, bit-exact to python_ref.kernels.layernorm.layernorm_raw (docs/nonlinear.md):
//   S1 = sum x, S2 = sum x^2 (exact), v = D S2 - S1^2 + EPS_V, v = v_n 4^k (v_n in [2^58, 2^60)),
//   sigma = isqrt(v_n) (restoring, 30 steps), r = round(2^59 / sigma) (rtl/src/reciprocal.sv),
//   per feature: c = D x - S1, a = round(c / 2^(k+4)), z = round(a r / 2^31),
//   y = sat(round((z gamma + beta 2^24) / 2^13)).
// Rows of identical values give y = beta exactly; v >= EPS_V >= 1: nothing wraps or divides by 0.
//
// Input beat: lane 0 = x (activation), lane 1 = {beta, gamma} (norm_param raw bits, gamma in the
// low half): the layer's parameters travel with the activations (in the accelerator they come from
// the weight memory). A row is FEATURE_DIM beats; input TLAST is ignored, output TLAST marks each
// row's last feature. EPS_V defaults to model_pkg::LAYERNORM_EPS_V, generated from the YAML with
// python_ref.kernels.layernorm.eps_v (the same constant as layernorm_config::eps_v in model_config.h).
//
// Schedule: a three-stage row pipeline, pipelined for 300 MHz (docs/timing.md: every multiply one
// DSP48E2 between fabric registers, every wide sum or rounding in a stage of its own). NB = 3 row
// buffers (x, gamma, beta; one circular buffer of 3 D entries) hold a row from its first input beat
// until its last gamma/beta read; ACC of row r+2, the statistics of row r+1 and OUT of row r run at
// the same time:
//   ACC    D beats in, one per cycle, into the row's buffer; the sums through P1 (register the beat),
//          P2 (S1 += x; x^2 as three 16-bit partial products), P3 (x^2), P4 (S2 += x^2); the row's
//          last beat resets the running sums and leaves S1, S2 in its slot's (s1f, s2f)
//   statistics, one row at a time, from the edge its S2 is complete (or the previous row's handoff):
//   VPREP  S1, S2 copied from the slot; |S1|, 3 |S1|, 3 S2 (2 cycles)
//   VMUL   D S2 and S1^2 by radix-4 shift-and-add, MSB first (21 cycles, D and |S1| < 4^21)
//   VSUM   v = (D S2 + EPS_V) - S1^2 (2 cycles)
//   NORM   v_n = v 4^-k by steps of 4^+-8 or 4^+-1 (9 steps of 2 cycles, at most 9 needed); floor as before
//   SQRT   30 restoring steps (the per-row constants of OUT are formed meanwhile)
//   RECIP  reciprocal handshake (K + 2 = 62 cycles); the result waits in the reciprocal until one
//          of two constant banks is free, the hand-over writes the row's constants (32 + k + 4,
//          rnd - S1, r) into it and the next row's statistics start at the same edge
//   OUT    D beats out through a 14-stage pipeline (rtl/src/axis_pipe_ctrl.sv) and the axis_skid
//          output slice: O1 row-buffer read, O2 register, O3 D x (two DSPs), O4 their sum,
//          O5 + (rnd - S1), O6/O7 the shift by k + 4 (radix 8, then 1), O8 a r (four DSPs),
//          O9/O10 their sum and the rounding to z, gamma/beta read (O9) and registered (O10),
//          O11 z gamma (two DSPs), O12/O13 + beta 2^24 + rounding, O14 the shift by 13 and the
//          saturation. Each beat carries its row's bank bit; the constants are registered from the
//          bank one stage before their use. A handed-over row starts when OUT is idle or at the edge
//          the current row's last beat enters: rows leave back to back. A row retires (frees its
//          buffer and its bank) at the edge its last beat's gamma/beta are read.
// x_TREADY (flip-flops only) is high inside a row and, at a row's first beat, whenever fewer than
// NB rows hold a buffer. The output's flow control reaches only OUT's own registers, the bank and
// buffer counts. Unstalled, with S = 136 cycles the statistics stage (hand-over to hand-over when
// rows wait for it), rows stream at one per max(D, S) cycles: D when D >= S + 11 (row r's buffer
// frees in time for row r + 3's first beat), S when D <= S. D = 192: 192 (a beat per cycle in and
// out), D = 32: 136; measured by cosim/test_layernorm.py::test_latency_throughput. A row's last
// input -> its first output: 155 cycles into an idle unit (and in the stream when D >= S + 11).
`default_nettype none

module layernorm
  import model_pkg::*;
#(
    // eps in the unit's integer variance: round(eps * D^2 * 2^(2F)), generated from the YAML
    parameter longint unsigned EPS_V = LAYERNORM_EPS_V
) (
    input  logic                 ap_clk,
    input  logic                 ap_rst_n,   // synchronous, active low
    input  logic [63:0]          x_TDATA,
    input  logic                 x_TVALID,
    output logic                 x_TREADY,
    input  logic                 x_TLAST,    // ignored: rows are FEATURE_DIM beats
    input  logic [7:0]           x_TKEEP,    // ignored
    input  logic [7:0]           x_TSTRB,    // ignored
    output logic [31:0]          y_TDATA,
    output logic                 y_TVALID,
    input  logic                 y_TREADY,
    output logic                 y_TLAST,
    output logic [3:0]           y_TKEEP,
    output logic [3:0]           y_TSTRB
);

  localparam int D   = FEATURE_DIM;
  localparam int W   = ACT_W;
  localparam int F   = ACT_W - ACT_I;
  localparam int PW  = NORM_PARAM_W;
  localparam int PF  = NORM_PARAM_W - NORM_PARAM_I;
  localparam int ZF  = LAYERNORM_Z_FRAC;
  localparam int YS  = ZF + PF - F;        // 13
  localparam int IW  = $clog2(D);          // idx, ridx count 0 .. D - 1
  localparam int NB  = 3;                  // row buffers
  localparam int BD  = NB * D;             // circular row buffer entries
  localparam int BW  = $clog2(BD);         // row buffer address
  localparam int S1W = W + 9;              // |S1| < 2^(W-1) * 256
  localparam int S2W = 2 * W + 8;          // S2 <= 256 * 2^(2W-2)
  localparam int VW  = 2 * W + 18;         // D S2, S1^2, + EPS_V
  localparam int ND  = 21;                 // radix-4 digits of D and |S1| (< 2^42)
  localparam int NN  = 9;                  // normalisation steps (at most 9 change v_n), 2 cycles each
  localparam int OST = 14;                 // OUT pipeline stages
  localparam int ORT = 8;                  // a row retires when its last beat leaves this stage (gamma/beta read)

  if (W != 32 || PW != 16 || D < 2 || D > LAYERNORM_MAX_DIM || YS < 1 || LAYERNORM_SIGMA_BITS != 30 ||
      VW != 82 || S1W > 42) begin : g_chk
    $error("layernorm: needs 32-bit activations, 16-bit norm params, 2 <= FEATURE_DIM <= 256");
  end

  // statistics stage
  typedef enum logic [3:0] {SIDLE, VPREP1, VPREP2, VMUL, VSUM1, VSUM2, NORM, SQRT, RECIP, RWAIT} state_t;
  state_t state;
  logic running;

  logic signed [W-1:0]  xbuf [BD];
  logic signed [PW-1:0] gbuf [BD], bbuf [BD];

  // ---- ACC: input side and the sum pipeline
  logic [IW-1:0]        idx;         // beat of the row being received
  logic                 ifirst, ilast;   // idx == 0, idx == D - 1
  logic [BW-1:0]        wptr;        // its buffer entry
  logic [1:0]           nrows;       // rows holding a buffer (first beat accepted, not retired)
  logic signed [S1W-1:0] s1, s1l;    // running S1; the last row's S1 (until its S2 is complete)
  logic [S2W-1:0]       s2;          // running S2
  logic signed [S1W-1:0] s1f [NB];   // per buffer slot: the row's sums, complete
  logic [S2W-1:0]       s2f [NB];
  logic [1:0]           fslot;       // slot of the next row whose sums complete

  assign x_TREADY = running && (!ifirst || nrows != 2'(NB));
  wire  in_fire = x_TVALID && x_TREADY;
  logic                 v1, v2, v3, last1, last2, last3;
  logic signed [W-1:0]  x1;
  logic signed [PW-1:0] g1, b1;
  logic [BW-1:0]        wa1;
  logic signed [31:0]   phh2;        // xh^2
  logic signed [32:0]   phl2;        // xh xl
  logic        [31:0]   pll2;        // xl^2
  logic        [63:0]   sq3;         // x^2 = xh^2 2^32 + xh xl 2^17 + xl^2
  logic signed [15:0]   xh1;
  logic        [15:0]   xl1;
  assign xh1 = x1[31:16];
  assign xl1 = x1[15:0];
  wire  sum_done = v3 && last3;      // a row's S2 is complete at this edge

  always_ff @(posedge ap_clk) begin
    if (in_fire) begin
      x1    <= $signed(x_TDATA[W-1:0]);
      g1    <= $signed(x_TDATA[32 +: PW]);
      b1    <= $signed(x_TDATA[48 +: PW]);
      wa1   <= wptr;
      last1 <= ilast;
    end
    if (v1) begin
      xbuf[wa1] <= x1;
      gbuf[wa1] <= g1;
      bbuf[wa1] <= b1;
    end
    last2 <= last1;
    last3 <= last2;
    if (v1 && last1) s1l <= s1 + S1W'(x1);
    if (sum_done) begin
      s1f[fslot] <= s1l;
      s2f[fslot] <= s2 + S2W'(sq3);
    end
    phh2 <= 32'(xh1) * 32'(xh1);
    phl2 <= 33'(xh1) * $signed(33'({1'b0, xl1}));
    pll2 <= 32'(xl1) * 32'(xl1);
    sq3  <= {phh2, pll2} + (64'(phl2) <<< 17);
  end

  // ---- statistics: VMUL / VSUM / NORM / SQRT registers
  logic [1:0]    tslot, cslot;       // slot of the next row to take; of the row being processed
  logic [NB-1:0] sv;                 // the slot's sums are complete and not yet taken
  logic signed [S1W-1:0] ss1;
  logic [S2W-1:0] ss2;
  logic [41:0]   as1, sreg, dreg;
  logic [43:0]   as3;
  logic [S2W+1:0] s2x3;
  logic [VW-1:0] accs, accd, vt, vnw;
  logic [4:0]    dcnt;
  logic signed [7:0] k;
  logic [59:0]   vn;
  logic [31:0]   rem;   // < 2 root + 2 < 2^31
  logic [29:0]   root;
  logic [4:0]    step;

  logic [VW-1:0] s_add, d_add;
  always_comb begin
    case (sreg[41:40])
      2'd0: s_add = '0;
      2'd1: s_add = VW'(as1);
      2'd2: s_add = VW'({as1, 1'b0});
      default: s_add = VW'(as3);
    endcase
    case (dreg[41:40])
      2'd0: d_add = '0;
      2'd1: d_add = VW'(ss2);
      2'd2: d_add = VW'({ss2, 1'b0});
      default: d_add = VW'(s2x3);
    endcase
  end

  // NORM: one step towards v_n in [2^58, 2^60) (right shifts floor, as v >> 2k does) in two
  // cycles: phase 0 registers the one-hot choice, phase 1 applies it
  wire n_lt44 = (vnw[VW-1:44] == '0);
  wire n_lt58 = (vnw[VW-1:58] == '0);
  wire n_ge76 = (vnw[VW-1:76] != '0);
  wire n_ge60 = (vnw[VW-1:60] != '0);
  logic nph, f_l16, f_l2, f_r16, f_r2;
  logic [VW-1:0] vnw_next;
  always_comb begin
    vnw_next = vnw;
    if (f_l16) vnw_next = {vnw[VW-17:0], 16'd0};
    if (f_l2)  vnw_next = {vnw[VW-3:0], 2'd0};
    if (f_r16) vnw_next = {16'd0, vnw[VW-1:16]};
    if (f_r2)  vnw_next = {2'd0, vnw[VW-1:2]};
  end

  // SQRT: one restoring step, the bit from the subtraction's borrow
  logic [31:0] rem_sh, trial;
  logic [32:0] sdiff;
  assign rem_sh = {rem[29:0], vn[59:58]};
  assign trial  = {root, 2'b01};
  assign sdiff  = {1'b0, rem_sh} - {1'b0, trial};
  wire   fits   = !sdiff[32];

  // per-row constants of OUT, formed during SQRT: sa = 32 + k + 4, cst = rnd - S1
  logic [5:0]          sa;
  logic signed [63:0]  rnd, cst;
  logic signed [7:0]   sh;

  // ---- OUT: source, flow control, output slice
  logic [IW-1:0] ridx;               // beat of the row being issued
  logic [BW-1:0] rptr;               // its buffer entry
  logic          rlast;              // ridx == D - 1
  logic          oissue;             // a row is being issued (ridx valid)
  logic          obank;              // bank of the row being issued
  logic          opend;              // a handed-over row waits for OUT (its bank loaded)
  logic          hbank;              // bank of the next row handed over
  logic [1:0]    nbank;              // rows handed over and not retired (each holds a bank)
  logic          rwait;              // state == RWAIT (a flip-flop of its own: short hand-over logic)
  logic          src_ready, ce, vo, lo, out_s_ready;
  wire  src_valid = oissue;
  wire  ofire     = oissue && ce;        // = src_valid && src_ready (oissue implies running)
  wire  ofin      = ofire && rlast;      // the row being issued has its last beat accepted

  // ---- reciprocal 1/sigma (bit-serial, shared design with the softmax); its result register holds
  // a finished row until a constant bank is free
  logic        rec_in_ready, rec_out_valid;
  logic [31:0] rec_out;
  logic        rec_last, rec_user;
  logic [3:0]  rec_keep, rec_strb;
  reciprocal #(.WI(LAYERNORM_SIGMA_BITS), .K(LAYERNORM_RECIP_K), .WO(LAYERNORM_RECIP_WIDTH), .LANE_W(32), .UW(1)) u_rec (
      .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
      .x_TDATA({2'b00, root}), .x_TVALID(state == RECIP), .x_TREADY(rec_in_ready), .x_TLAST(1'b0),
      .x_TUSER(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(rec_out), .y_TVALID(rec_out_valid), .y_TREADY(rwait && nbank != 2'd2), .y_TLAST(rec_last),
      .y_TUSER(rec_user), .y_TKEEP(rec_keep), .y_TSTRB(rec_strb));

  // hand-over: a finished row's constants go into the free bank (flip-flops only: the output's
  // flow control stays out of the statistics' control); OUT starts it when it is free, else at
  // the current row's last beat
  wire hand       = rwait && rec_out_valid && nbank != 2'd2;
  wire ostart     = (!oissue || ofin) && (opend || hand);   // the pending row (else the one handed over) starts
  wire sums_avail = sv[tslot] || sum_done;   // rows complete in order: if sv[tslot] is clear, the
                                             // next completion is tslot's row
  wire sstart     = sums_avail && (state == SIDLE || hand);      // the statistics take the next row

  axis_pipe_ctrl #(.STAGES(OST)) u_ctrl (
      .clk(ap_clk), .rst_n(ap_rst_n), .s_axis_tvalid(src_valid), .s_axis_tlast(rlast),
      .s_axis_tready(src_ready), .ce(ce), .m_axis_tvalid(vo), .m_axis_tlast(lo), .m_axis_tready(out_s_ready));

  logic [W-1:0] y14;
  axis_skid #(.WIDTH(33)) u_out (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .s_axis_tdata({lo, y14}), .s_axis_tvalid(vo), .s_axis_tready(out_s_ready),
      .m_axis_tdata({y_TLAST, y_TDATA}), .m_axis_tvalid(y_TVALID), .m_axis_tready(y_TREADY));

  // ---- OUT datapath
  logic [5:0]           sa_b [2];     // constant banks, written when OUT takes a row
  logic signed [63:0]   cst_b [2];
  logic [30:0]          r_b [2];
  logic                 ob [1:6];     // bank bit of the beat in O1 .. O6
  logic                 lp [1:ORT];   // the beat in O1 .. O8 is its row's last
  wire                  retire = ce && lp[ORT];   // a row's last gamma/beta read is at this edge
  logic signed [63:0]   cst4;         // the constants of the beat in O4, O5, O6, O7
  logic [5:0]           sa5;
  logic [2:0]           sa6;
  logic [30:0]          r7;
  logic signed [W-1:0]  xr1, xr2;
  logic [BW-1:0]        oa [1:8];
  logic signed [26:0]   ph3;          // D xh
  logic        [25:0]   pl3;          // D xl
  logic signed [63:0]   c4, c5;
  logic        [38:0]   q6;
  logic signed [31:0]   a7;
  logic signed [29:0]   phh8;         // ah rh
  logic signed [33:0]   phl8;         // ah rl
  logic        [30:0]   plh8;         // al rh
  logic        [32:0]   pll8;         // al rl
  logic signed [63:0]   sa9, sb9;
  logic signed [31:0]   z10;
  logic signed [PW-1:0] g9, b9, g10, b10;
  logic signed [31:0]   pzh11;        // zh gamma
  logic signed [32:0]   pzl11;        // zl gamma
  logic signed [63:0]   bt11, bt12, acc12, s13;

  localparam logic signed [10:0] DS = 11'(D);
  logic signed [15:0] xh2;
  logic        [15:0] xl2;
  assign xh2 = xr2[31:16];
  assign xl2 = xr2[15:0];
  logic [95:0] c96;
  assign c96 = {c5, 32'd0};
  logic signed [15:0] ah7, zh10;
  logic        [15:0] al7, zl10;
  assign ah7 = a7[31:16];
  assign al7 = a7[15:0];
  assign zh10 = z10[31:16];
  assign zl10 = z10[15:0];
  logic signed [63:0] ysum, y_full;
  assign ysum   = sa9 + sb9;
  assign y_full = s13 >>> YS;
  wire   y_hi   = !y_full[63] && (y_full[62:31] != '0);
  wire   y_lo   = y_full[63] && (y_full[62:31] != '1);

  always_ff @(posedge ap_clk) begin
    if (hand) begin
      sa_b[hbank]  <= sa;
      cst_b[hbank] <= cst;
      r_b[hbank]   <= rec_out[30:0];
    end
    if (ce) begin
      // O1, O2
      xr1   <= xbuf[rptr];
      oa[1] <= rptr;
      for (int j = 2; j <= 8; j++) oa[j] <= oa[j-1];
      ob[1] <= obank;
      for (int j = 2; j <= 6; j++) ob[j] <= ob[j-1];
      xr2   <= xr1;
      // O3, O4, O5: c = D x - S1 (+ the rounding constant)
      ph3   <= 27'(xh2) * 27'(DS);
      pl3   <= 26'(xl2) * 26'(D);
      c4    <= (64'(ph3) <<< 16) + 64'(pl3);
      cst4  <= cst_b[ob[3]];
      c5    <= c4 + cst4;
      // O6, O7: a = low 32 bits of c96 >> (32 + k + 4)
      sa5   <= sa_b[ob[4]];
      sa6   <= sa5[2:0];
      q6    <= 39'(c96 >> {sa5[5:3], 3'b000});
      a7    <= 32'(q6 >> sa6[2:0]);
      // O8, O9, O10: z = round(a r / 2^31)
      r7    <= r_b[ob[6]];
      phh8  <= 30'(ah7) * $signed(30'({1'b0, r7[30:17]}));
      phl8  <= 34'(ah7) * $signed(34'({1'b0, r7[16:0]}));
      plh8  <= 31'(al7) * 31'(r7[30:17]);
      pll8  <= 33'(al7) * 33'(r7[16:0]);
      sa9   <= ((64'(phh8) <<< 33) | (64'sd1 <<< 30)) + (64'(phl8) <<< 16);
      sb9   <= (64'(plh8) << 17) + 64'(pll8);
      z10   <= 32'(ysum >>> 31);
      g9    <= gbuf[oa[8]];   // read at O9, registered again: no DSP input straight from a BRAM
      b9    <= bbuf[oa[8]];
      g10   <= g9;
      b10   <= b9;
      // O11, O12, O13, O14: y = sat(round((z gamma + beta 2^ZF) / 2^YS))
      pzh11 <= 32'(zh10) * 32'(g10);
      pzl11 <= $signed(33'({1'b0, zl10})) * 33'(g10);
      bt11  <= (64'(b10) <<< ZF) + (64'sd1 <<< (YS - 1));
      acc12 <= (64'(pzh11) <<< 16) + 64'(pzl11);
      bt12  <= bt11;
      s13   <= acc12 + bt12;
      y14   <= y_hi ? 32'h7fffffff : y_lo ? 32'h80000000 : y_full[31:0];
    end
  end

  // ---- control
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      running <= 1'b0;
      state   <= SIDLE;
      idx     <= '0;
      ifirst  <= 1'b1;
      ilast   <= 1'b0;
      wptr    <= '0;
      nrows   <= '0;
      s1      <= '0;
      s2      <= '0;
      v1      <= 1'b0;
      v2      <= 1'b0;
      v3      <= 1'b0;
      fslot   <= '0;
      tslot   <= '0;
      cslot   <= '0;
      sv      <= '0;
      ridx    <= '0;
      rlast   <= 1'b0;
      rwait   <= 1'b0;
      rptr    <= '0;
      oissue  <= 1'b0;
      obank   <= 1'b1;
      opend   <= 1'b0;
      hbank   <= 1'b0;
      nbank   <= '0;
      for (int j = 1; j <= ORT; j++) lp[j] <= 1'b0;
    end else begin
      running <= 1'b1;
      v1 <= in_fire;
      v2 <= v1;
      v3 <= v2;
      // ACC: a row's first beat takes a buffer, its last beat restarts the sums
      if (in_fire) begin
        idx    <= ilast ? '0 : idx + 1'b1;
        ifirst <= ilast;
        ilast  <= (idx == IW'(D - 2));
        wptr <= (wptr == BW'(BD - 1)) ? '0 : wptr + 1'b1;
      end
      nrows <= nrows + 2'(in_fire && ifirst) - 2'(retire);
      if (v1) s1 <= last1 ? '0 : s1 + S1W'(x1);
      if (v3) s2 <= last3 ? '0 : s2 + S2W'(sq3);
      if (sum_done) begin
        sv[fslot] <= 1'b1;
        fslot     <= (fslot == 2'(NB - 1)) ? '0 : fslot + 1'b1;
      end
      // statistics
      if (sstart) begin
        sv[tslot] <= 1'b0;   // after the set above: a row taken at the edge its sums complete
        cslot     <= tslot;
        tslot     <= (tslot == 2'(NB - 1)) ? '0 : tslot + 1'b1;
      end
      case (state)
        SIDLE: if (sstart) state <= VPREP1;
        VPREP1: state <= VPREP2;
        VPREP2: state <= VMUL;
        VMUL: if (dcnt == '0) state <= VSUM1;
        VSUM1: state <= VSUM2;
        VSUM2: state <= NORM;
        NORM: if (nph && dcnt == '0) state <= SQRT;
        SQRT: if (step == '0) state <= RECIP;
        RECIP: if (rec_in_ready) state <= RWAIT;
        RWAIT: if (hand) state <= sstart ? VPREP1 : SIDLE;
        default: state <= SIDLE;
      endcase
      // OUT
      rwait <= (state == RECIP && rec_in_ready) || (rwait && !hand);
      if (ofire) begin
        ridx  <= rlast ? '0 : ridx + 1'b1;
        rlast <= (ridx == IW'(D - 2));
        rptr <= (rptr == BW'(BD - 1)) ? '0 : rptr + 1'b1;
      end
      if (hand) hbank <= !hbank;
      oissue <= ostart || (oissue && !ofin);
      opend  <= ostart ? (opend && hand) : (opend || hand);
      obank  <= obank ^ ostart;
      nbank <= nbank + 2'(hand) - 2'(retire);
      if (ce) begin
        lp[1] <= ofin;
        for (int j = 2; j <= ORT; j++) lp[j] <= lp[j-1];
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    case (state)
      VPREP1: begin
        ss1  <= s1f[cslot];
        ss2  <= s2f[cslot];
        as1  <= 42'(s1f[cslot][S1W-1] ? -s1f[cslot] : s1f[cslot]);
        s2x3 <= (S2W+2)'(s2f[cslot]) + (S2W+2)'({s2f[cslot], 1'b0});
      end
      VPREP2: begin
        as3  <= 44'(as1) + 44'({as1, 1'b0});
        sreg <= as1;
        dreg <= 42'(D);
        accs <= '0;
        accd <= '0;
        dcnt <= 5'(ND - 1);
      end
      VMUL: begin
        accs <= {accs[VW-3:0], 2'b00} + s_add;
        accd <= {accd[VW-3:0], 2'b00} + d_add;
        sreg <= {sreg[39:0], 2'b00};
        dreg <= {dreg[39:0], 2'b00};
        dcnt <= dcnt - 1'b1;
      end
      VSUM1: vt <= accd + VW'(EPS_V);
      VSUM2: begin
        vnw  <= vt - accs;
        k    <= '0;
        dcnt <= 5'(NN - 1);
        nph  <= 1'b0;
      end
      NORM: begin
        nph <= !nph;
        if (!nph) begin
          f_l16 <= n_lt44;
          f_l2  <= !n_lt44 && n_lt58;
          f_r16 <= n_ge76;
          f_r2  <= !n_ge76 && n_ge60;
        end else begin
          vnw  <= vnw_next;
          vn   <= vnw_next[59:0];   // after the last step: converged (<= 9 steps needed)
          k    <= k + (f_l16 ? -8'sd8 : f_l2 ? -8'sd1 : f_r16 ? 8'sd8 : f_r2 ? 8'sd1 : 8'sd0);
          dcnt <= dcnt - 1'b1;
        end
        rem  <= '0;
        root <= '0;
        step <= 5'd29;
      end
      SQRT: begin
        rem  <= fits ? sdiff[31:0] : rem_sh;
        root <= {root[28:0], fits};
        vn   <= vn << 2;
        step <= step - 1'b1;
        // per-row constants of OUT (k and S1 are settled: 30 cycles to form them); they hold
        // until OUT takes the row (the next row's SQRT comes after that)
        sh   <= k + 8'sd4;
        sa   <= 6'(32 + int'(sh));
        rnd  <= (sh > 0) ? (64'sd1 <<< (sh - 8'sd1)) : 64'sd0;
        cst  <= rnd - 64'(ss1);
      end
      default: ;
    endcase
  end

  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, x_TLAST, rec_out[31], rec_last, rec_user, rec_keep, rec_strb,
                     src_ready, rem[31:30], ysum[63], ysum[30:0], y_full[31:0]};
endmodule

`default_nettype wire
