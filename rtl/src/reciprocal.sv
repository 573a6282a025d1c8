// Reciprocal unit, bit-exact to python_ref.kernels.reciprocal.reciprocal_raw:
//   y = min(floor((floor(2^K / x) + 1) / 2), 2^WO - 1)   (= round(2^(K-1) / x) ties up, saturated),
//   x = 0 -> 2^WO - 1. K = frac_in + frac_out + 1 (softmax 1/s: 24 + 31 + 1 = 56).
// Bit-serial exact restoring division of the power of two 2^K by x: one quotient bit per cycle.
//
// Stream ports (Vitis naming, ap_ctrl_none): x in the low WI bits of x_TDATA, y in the low WO bits
// of y_TDATA. x_TUSER travels with its value to y_TUSER (the softmax passes its row statistics
// through); x_TLAST to y_TLAST. One division at a time:
//   accept (x_TVALID && x_TREADY at edge N) -> K+1 step cycles -> y_TVALID high after edge N+K+2,
//   held until y_TREADY. x_TREADY is high only while idle (a flip-flop): one value per K+3 cycles.
`default_nettype none

module reciprocal #(
    parameter int WI     = 32,   // input bits (unsigned)
    parameter int K      = 56,   // 2^K / x
    parameter int WO     = 32,   // output bits (unsigned)
    parameter int LANE_W = 32,   // TDATA width (>= WI, >= WO, multiple of 8)
    parameter int UW     = 1     // TUSER width
) (
    input  logic                ap_clk,
    input  logic                ap_rst_n,   // synchronous, active low
    input  logic [LANE_W-1:0]   x_TDATA,
    input  logic                x_TVALID,
    output logic                x_TREADY,
    input  logic                x_TLAST,
    input  logic [UW-1:0]       x_TUSER,
    input  logic [LANE_W/8-1:0] x_TKEEP,    // ignored
    input  logic [LANE_W/8-1:0] x_TSTRB,    // ignored
    output logic [LANE_W-1:0]   y_TDATA,
    output logic                y_TVALID,
    input  logic                y_TREADY,
    output logic                y_TLAST,
    output logic [UW-1:0]       y_TUSER,
    output logic [LANE_W/8-1:0] y_TKEEP,
    output logic [LANE_W/8-1:0] y_TSTRB
);
  localparam int CW = $clog2(K + 1) + 1;

  if (WI < 1 || WO < 1 || K < 1 || K > 62 || LANE_W < WI || LANE_W < WO || LANE_W % 8 != 0) begin : g_chk
    $error("reciprocal: bad geometry WI %0d K %0d WO %0d LANE_W %0d", WI, K, WO, LANE_W);
  end

  typedef enum logic [1:0] {IDLE, BUSY, DONE} state_t;
  state_t state;
  logic [WI-1:0] d;          // divisor
  logic [WI:0]   rem;        // partial remainder, < 2 d before the compare
  logic [K:0]    q;          // quotient bits so far
  logic [CW-1:0] i;          // step counter: dividend bit i of 2^K
  logic          last_r;
  logic [UW-1:0] user_r;
  logic [WO-1:0] y_r;

  // one restoring step: shift in dividend bit i (only bit K is 1), subtract when it fits
  logic [WI:0] rem_sh;
  logic        fits;
  assign rem_sh = {rem[WI-1:0], (i == CW'(K))};
  assign fits   = rem_sh >= {1'b0, d};

  // rounding and saturation of the final quotient
  logic [K:0]   q_fin;
  logic [K+1:0] q_rnd;
  assign q_fin = {q[K-1:0], fits};
  assign q_rnd = {1'b0, q_fin} + (K+2)'(1);
  wire sat = (d == '0) || (q_rnd[K+1:1] > (K+1)'({WO{1'b1}}));

  assign x_TREADY = (state == IDLE);
  assign y_TVALID = (state == DONE);

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      state <= IDLE;
    end else begin
      case (state)
        IDLE: if (x_TVALID) state <= BUSY;
        BUSY: if (i == '0) state <= DONE;
        DONE: if (y_TREADY) state <= IDLE;
        default: state <= IDLE;
      endcase
    end
  end

  always_ff @(posedge ap_clk) begin
    case (state)
      IDLE: begin
        d      <= x_TDATA[WI-1:0];
        rem    <= '0;
        q      <= '0;
        i      <= CW'(K);
        last_r <= x_TLAST;
        user_r <= x_TUSER;
      end
      BUSY: begin
        rem <= fits ? rem_sh - {1'b0, d} : rem_sh;
        q   <= q_fin;
        i   <= i - 1'b1;
        if (i == '0) y_r <= sat ? {WO{1'b1}} : WO'(q_rnd[K+1:1]);
      end
      default: ;
    endcase
  end

  assign y_TDATA = LANE_W'(y_r);
  assign y_TLAST = last_r;
  assign y_TUSER = user_r;
  assign y_TKEEP = {(LANE_W/8){1'b1}};
  assign y_TSTRB = {(LANE_W/8){1'b1}};

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, x_TDATA, q_rnd[0], rem[WI], q[K]};
endmodule

`default_nettype wire
