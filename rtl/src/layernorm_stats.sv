// One LayerNorm statistics engine (rtl/src/layernorm.sv runs N_ST of them round-robin): from a row's
// exact sums S1, S2 to the constants of its output pass, bit-exact to
// python_ref.kernels.layernorm.layernorm_raw (docs/nonlinear.md):
//   v = D S2 - S1^2 + EPS_V, v = v_n 4^k (v_n in [2^58, 2^60)), sigma = isqrt(v_n),
//   r = round(2^59 / sigma) (rtl/src/reciprocal.sv); out: sa = 32 + k + 4, cst = rnd - S1
//   (rnd = 2^(k+3) when k + 4 > 0, else 0), r.
// This is the statistics stage of the one-feature-per-cycle unit, unchanged (bit-serial: no DSP):
//   VPREP  |S1|, 3 |S1|, 3 S2 (2 cycles; S1, S2 are registered at the start edge)
//   VMUL   D S2 and S1^2 by radix-4 shift-and-add, MSB first (21 cycles, D and |S1| < 4^21)
//   VSUM   v = (D S2 + EPS_V) - S1^2 (2 cycles)
//   NORM   v_n = v 4^-k by steps of 4^+-8 or 4^+-1 (9 steps of 2 cycles, at most 9 needed)
//   SQRT   30 restoring steps (the constants sa, cst are formed meanwhile)
//   RECIP  reciprocal handshake (K + 2 = 62 cycles)
// Handshake: start (one cycle, when ready) takes s1, s2 (registered every idle cycle: start needs
// no fan-out); done is high (flip-flops and the reciprocal's output register) from the cycle the
// constants are valid until take; ready is a flip-flop, set the edge after done && take. With take
// high, start to done is 135 cycles and start to the next start 137. sa, cst hold until the next
// row's SQRT, r until take.
`default_nettype none

module layernorm_stats
  import model_pkg::*;
#(
    parameter longint unsigned EPS_V = LAYERNORM_EPS_V,
    parameter int S1W = 41,
    parameter int S2W = 72
) (
    input  logic                  ap_clk,
    input  logic                  ap_rst_n,   // synchronous, active low
    input  logic                  start,
    input  logic signed [S1W-1:0] s1,
    input  logic [S2W-1:0]        s2,
    output logic                  ready,
    output logic                  done,
    input  logic                  take,
    output logic [5:0]            sa,
    output logic signed [63:0]    cst,
    output logic [30:0]           r
);
  localparam int D   = FEATURE_DIM;
  localparam int VW  = 82;                 // D S2, S1^2, + EPS_V
  localparam int ND  = 21;                 // radix-4 digits of D and |S1| (< 2^42)
  localparam int NN  = 9;                  // normalisation steps (at most 9 change v_n), 2 cycles each

  if (S1W > 42 || S2W != 72 || LAYERNORM_SIGMA_BITS != 30) begin : g_chk
    $error("layernorm_stats: sized for |S1| < 2^41, S2 < 2^72 and a 30-bit sigma");
  end

  typedef enum logic [3:0] {SIDLE, VPREP1, VPREP2, VMUL, VSUM1, VSUM2, NORM, SQRT, RECIP, RWAIT} state_t;
  state_t state;

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
  logic          rwait;  // state == RWAIT (a flip-flop of its own: short hand-over logic)
  // vnw and k are written in VSUM2 (v, k = 0) and in NORM's second phase: that enable and the
  // VSUM2 select as flip-flops set the cycle before (from the FSM state decoded a cycle early, so
  // the enables of 82 + 8 bits are not LUTs behind the state register: 2.99 ns on edge_moe / tiny);
  // an assertion compares them with the state every cycle
  logic          vnw_ld;  // state == VSUM2 || (state == NORM && nph)
  logic          vsum2;   // state == VSUM2

  // VMUL's addend: the multiplicand times the multiplier's radix-4 digit (0, x, 2x or the
  // precomputed 3x), for S1^2 (|S1| by the digits of |S1|) and D S2 (S2 by the digits of D)
  function automatic logic [VW-1:0] times_digit(input logic [1:0] digit, input logic [VW-1:0] x,
                                                input logic [VW-1:0] x3);
    case (digit)
      2'd0: times_digit = '0;
      2'd1: times_digit = x;
      2'd2: times_digit = {x[VW-2:0], 1'b0};
      default: times_digit = x3;
    endcase
  endfunction
  wire [VW-1:0] s_add = times_digit(sreg[41:40], VW'(as1), VW'(as3));
  wire [VW-1:0] d_add = times_digit(dreg[41:40], VW'(ss2), VW'(s2x3));

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

  logic signed [63:0]  rnd;
  logic signed [7:0]   sh;

  // reciprocal 1/sigma (bit-serial, shared design with the softmax); its result register holds
  // the row's r until take
  logic        rec_in_ready, rec_out_valid;
  logic [31:0] rec_out;
  logic        rec_last, rec_user;
  logic [3:0]  rec_keep, rec_strb;
  reciprocal #(.WI(LAYERNORM_SIGMA_BITS), .K(LAYERNORM_RECIP_K), .WO(LAYERNORM_RECIP_WIDTH), .LANE_W(32), .UW(1)) u_rec (
      .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
      .x_TDATA({2'b00, root}), .x_TVALID(state == RECIP), .x_TREADY(rec_in_ready), .x_TLAST(1'b0),
      .x_TUSER(1'b0), .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(rec_out), .y_TVALID(rec_out_valid), .y_TREADY(rwait && take), .y_TLAST(rec_last),
      .y_TUSER(rec_user), .y_TKEEP(rec_keep), .y_TSTRB(rec_strb));

  assign done  = rwait && rec_out_valid;
  wire   hand  = done && take;
  assign r     = rec_out[30:0];

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      state <= SIDLE;
      rwait <= 1'b0;
      ready <= 1'b1;
      vnw_ld <= 1'b0;
      vsum2 <= 1'b0;
    end else begin
      // VSUM1 is followed by VSUM2, NORM's first phase by its second (NORM leaves after a second phase)
      vnw_ld <= state == VSUM1 || (state == NORM && !nph);
      vsum2 <= state == VSUM1;
      ready <= (ready && !start) || hand;
      case (state)
        SIDLE: if (start) state <= VPREP1;
        VPREP1: state <= VPREP2;
        VPREP2: state <= VMUL;
        VMUL: if (dcnt == '0) state <= VSUM1;
        VSUM1: state <= VSUM2;
        VSUM2: state <= NORM;
        NORM: if (nph && dcnt == '0) state <= SQRT;
        SQRT: if (step == '0) state <= RECIP;
        RECIP: if (rec_in_ready) state <= RWAIT;
        RWAIT: if (hand) state <= SIDLE;
        default: state <= SIDLE;
      endcase
      rwait <= (state == RECIP && rec_in_ready) || (rwait && !hand);
    end
  end

  always_ff @(posedge ap_clk) begin
    if (ready) begin
      ss1 <= s1;
      ss2 <= s2;
    end
    case (state)
      VPREP1: begin
        as1  <= 42'(ss1[S1W-1] ? -ss1 : ss1);
        s2x3 <= (S2W+2)'(ss2) + (S2W+2)'({ss2, 1'b0});
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
          vn   <= vnw_next[59:0];   // after the last step: converged (<= 9 steps needed)
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
        // constants of the output pass (k and S1 are settled: 30 cycles to form them)
        sh   <= k + 8'sd4;
        sa   <= 6'(32 + int'(sh));
        rnd  <= (sh > 0) ? (64'sd1 <<< (sh - 8'sd1)) : 64'sd0;
        cst  <= rnd - 64'(ss1);
      end
      default: ;
    endcase
    // VSUM2: v, k = 0; NORM's second phase: the step
    if (vnw_ld) begin
      vnw <= vsum2 ? vt - accs : vnw_next;
      k   <= vsum2 ? '0 : k + (f_l16 ? -8'sd8 : f_l2 ? -8'sd1 : f_r16 ? 8'sd8 : f_r2 ? 8'sd1 : 8'sd0);
    end
  end
`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && (vnw_ld != (state == VSUM2 || (state == NORM && nph)) || vsum2 != (state == VSUM2)))
      $error("layernorm_stats: vnw_ld / vsum2 differ from the state");
  end
`endif

  wire unused_ok = &{1'b0, rec_out[31], rec_last, rec_user, rec_keep, rec_strb, rem[31:30]};
endmodule

`default_nettype wire
