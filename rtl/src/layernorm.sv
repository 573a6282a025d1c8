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
// Schedule, one row at a time: ACC (D beats in, one per cycle, into the row buffer and the exact
// sums), VCALC (1 cycle), NORM (1 cycle), SQRT (30 cycles), RECIP (reciprocal handshake, 61 steps),
// OUT (D beats out, one per cycle while y_TREADY). x_TREADY is high only in ACC. Unstalled, a row
// takes 2 D + 96 cycles (D = 192: 480 cycles; D = 32: 160), measured by cosim/test_layernorm.py.
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
  localparam int IW  = $clog2(D + 1);    // idx counts to D
  localparam int AW  = $clog2(D);        // row buffer address
  localparam int S1W = W + 9;              // |S1| < 2^(W-1) * 256
  localparam int S2W = 2 * W + 8;          // S2 <= 256 * 2^(2W-2)
  localparam int VW  = 2 * W + 18;         // D S2, S1^2, + EPS_V

  if (W != 32 || PW != 16 || D < 2 || D > LAYERNORM_MAX_DIM || YS < 1 || LAYERNORM_SIGMA_BITS != 30) begin : g_chk
    $error("layernorm: needs 32-bit activations, 16-bit norm params, 2 <= FEATURE_DIM <= 256");
  end

  typedef enum logic [2:0] {ACC, VCALC, NORM, SQRT, RECIP, RWAIT, OUT} state_t;
  state_t state;
  logic running;

  logic signed [W-1:0]  xbuf [D];
  logic signed [PW-1:0] gbuf [D], bbuf [D];
  logic [IW-1:0]        idx;
  logic signed [S1W-1:0] s1;
  logic [S2W-1:0]       s2;
  logic [VW-1:0]        v;
  logic signed [7:0]    k;
  logic [59:0]          vn;
  logic [31:0]          rem;   // < 2 root + 2 < 2^31
  logic [29:0]          root;
  logic [4:0]           step;
  logic [30:0]          r;

  // ---- input side
  assign x_TREADY = running && (state == ACC);
  wire  in_fire = x_TVALID && x_TREADY;
  logic signed [W-1:0] x_in;
  assign x_in = $signed(x_TDATA[W-1:0]);

  // ---- NORM: bit length of v and the even normalisation shift
  int L, t, kk;
  always_comb begin
    L = 0;
    for (int b = 0; b < VW; b++) if (v[b]) L = b + 1;
    t  = L - 59;
    kk = (t >= 0) ? t / 2 : -((1 - t) / 2);  // floor(t / 2) = ceil((L - 60) / 2)
  end
  logic [VW+63:0] v_wide;
  assign v_wide = (VW+64)'(v);

  // ---- SQRT: one restoring step
  logic [31:0] rem_sh, trial;
  assign rem_sh = {rem[29:0], vn[59:58]};
  assign trial  = {root, 2'b01};
  wire   fits   = rem_sh >= trial;

  // ---- reciprocal 1/sigma (bit-serial, shared design with the softmax)
  logic        rec_in_ready, rec_out_valid;
  logic [31:0] rec_out;
  logic        rec_last, rec_user;
  logic [3:0]  rec_keep, rec_strb;
  reciprocal #(.WI(LAYERNORM_SIGMA_BITS), .K(LAYERNORM_RECIP_K), .WO(LAYERNORM_RECIP_WIDTH), .LANE_W(32), .UW(1)) u_rec (
      .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
      .x_TDATA({2'b00, root}), .x_TVALID(state == RECIP), .x_TREADY(rec_in_ready), .x_TLAST(1'b0),
      .x_TUSER(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(rec_out), .y_TVALID(rec_out_valid), .y_TREADY(state == RWAIT), .y_TLAST(rec_last),
      .y_TUSER(rec_user), .y_TKEEP(rec_keep), .y_TSTRB(rec_strb));

  // ---- OUT: one feature (combinational from the row buffer, registered into y)
  logic signed [63:0] c, a_full, ar, acc, y_full;
  logic signed [31:0] a;
  logic signed [31:0] z;
  int sh;
  always_comb begin
    c  = 64'(D) * 64'(xbuf[idx[AW-1:0]]) - 64'(s1);
    sh = int'(k) + 4;
    if (sh > 0) a_full = (c + (64'sd1 <<< (sh - 1))) >>> sh;
    else        a_full = c <<< (-sh);
    a  = 32'(a_full);
    ar = 64'(a) * $signed({33'd0, r});
    z  = 32'((ar + (64'sd1 <<< 30)) >>> 31);
    acc = 64'(z) * 64'(gbuf[idx[AW-1:0]]) + (64'(bbuf[idx[AW-1:0]]) <<< ZF);
    y_full = (acc + (64'sd1 <<< (YS - 1))) >>> YS;
    if (y_full > 64'sd2147483647) y_full = 64'sd2147483647;     // saturation (unreachable with the
    if (y_full < -64'sd2147483648) y_full = -64'sd2147483648;   // shipped formats: |y| < 272)
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      running  <= 1'b0;
      state    <= ACC;
      idx      <= '0;
      s1       <= '0;
      s2       <= '0;
      y_TVALID <= 1'b0;
    end else begin
      running <= 1'b1;
      case (state)
        ACC: if (in_fire) begin
          xbuf[idx[AW-1:0]] <= x_in;
          gbuf[idx[AW-1:0]] <= $signed(x_TDATA[32 +: PW]);
          bbuf[idx[AW-1:0]] <= $signed(x_TDATA[48 +: PW]);
          s1  <= s1 + S1W'(x_in);
          s2  <= s2 + S2W'($unsigned(64'(x_in) * 64'(x_in)));
          idx <= idx + 1'b1;
          if (idx == IW'(D - 1)) state <= VCALC;
        end
        VCALC: begin
          v     <= VW'(D) * VW'(s2) - VW'($unsigned((VW)'(s1) * (VW)'(s1))) + VW'(EPS_V);
          state <= NORM;
        end
        NORM: begin
          k     <= 8'(kk);
          vn    <= (kk >= 0) ? 60'(v >> (2 * kk)) : 60'(v_wide << (-2 * kk));
          rem   <= '0;
          root  <= '0;
          step  <= 5'd29;
          state <= SQRT;
        end
        SQRT: begin
          rem   <= fits ? rem_sh - trial : rem_sh;
          root  <= {root[28:0], fits};
          vn    <= vn << 2;
          step  <= step - 1'b1;
          if (step == '0) state <= RECIP;
        end
        RECIP: if (rec_in_ready) state <= RWAIT;
        RWAIT: if (rec_out_valid) begin
          r     <= rec_out[30:0];
          idx   <= '0;
          state <= OUT;
        end
        OUT: if (!y_TVALID || y_TREADY) begin
          if (idx != IW'(D)) begin
            y_TDATA  <= 32'(y_full);
            y_TLAST  <= (idx == IW'(D - 1));
            y_TVALID <= 1'b1;
            idx      <= idx + 1'b1;
          end else begin
            y_TVALID <= 1'b0;
            idx      <= '0;
            s1       <= '0;
            s2       <= '0;
            state    <= ACC;
          end
        end
        default: state <= ACC;
      endcase
    end
  end

  assign y_TKEEP = '1;
  assign y_TSTRB = '1;

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, x_TLAST, rec_out[31], rec_last, rec_user, rec_keep, rec_strb,
                     a_full[63:32], ar, acc, y_full[63:32], v_wide[VW+63:60], rem[31:30]};
endmodule

`default_nettype wire
