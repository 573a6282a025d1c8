// Reciprocal unit, bit-exact to python_ref.kernels.reciprocal.reciprocal_raw:
//   y = min(floor((floor(2^K / x) + 1) / 2), 2^WO - 1)   (= round(2^(K-1) / x) ties up, saturated),
//   x = 0 -> 2^WO - 1. K = frac_in + frac_out + 1 (softmax 1/s: 24 + 31 + 1 = 56).
// Bit-serial exact restoring division of the power of two 2^K by x: one quotient bit per cycle.
//
// Stream ports (Vitis naming, ap_ctrl_none): x in the low WI bits of x_TDATA, y in the low WO bits
// of y_TDATA. x_TUSER travels with its value to y_TUSER (the softmax passes its row statistics
// through); x_TLAST to y_TLAST. One division at a time:
//   accept (x_TVALID && x_TREADY at edge N) -> y_TVALID high after edge N+K+1, held until y_TREADY:
//   LATENCY = K + 2 cycles handshake to handshake; x_TREADY is high only while idle (a flip-flop):
//   one value per K + 3 cycles.
//
// Schedule (K + 1 quotient bits, then the rounding in a cycle of its own, for 300 MHz):
//   accept   the first step, whose dividend bit is the 1 of 2^K: quotient bit 0 and rem = 1 for
//            x >= 2; x <= 1 (x = 0 or 1) saturates (2^(K-1) / x >= 2^WO), so it only sets the
//            saturation flag q_hi and the division runs on without meaning (rem and q unused)
//   BUSY     K steps shifting in 0: rem_sh = 2 rem; one subtraction rem_sh - x whose borrow is the
//            quotient bit (no separate compare); the last step is flagged one cycle ahead
//   ROUND    y = (q + 1) >> 1 over the low WO + 1 bits, or all ones when it would not fit
//            (q >= 2^(WO+1) - 1) or when x <= 1 (q_hi set at accept)
//   DONE     y_TVALID until y_TREADY
// x_TREADY and y_TVALID are flip-flops of their own (idle, done: state == IDLE / DONE, checked in
// simulation), so a pool of units can select them without a state decode (softmax_stats).
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

  if (WI < 2 || WO < 1 || K < 2 || K > 62 || K <= WO || LANE_W < WI || LANE_W < WO || LANE_W % 8 != 0)
  begin : g_chk
    $error("reciprocal: bad geometry WI %0d K %0d WO %0d LANE_W %0d (needs K > WO)", WI, K, WO, LANE_W);
  end

  typedef enum logic [1:0] {IDLE, BUSY, ROUND, DONE} state_t;
  state_t state;
  logic [WI-1:0] d;          // divisor
  logic [WI:0]   rem;        // partial remainder, < d after every step
  logic [K:0]    q;          // quotient bits so far
  logic [CW-1:0] i;          // steps left after this one
  logic          last_step;  // this BUSY cycle is the last step (i == 0)
  logic          q_hi;       // x <= 1, or a 1 has reached q[K:WO+1] (the saturation test, built bit by bit)
  logic          q_ones;     // &q[WO:0], registered with q (the other half of the test: q + 1 carries out)
  logic          idle, done; // state == IDLE, state == DONE (x_TREADY, y_TVALID)
  logic          last_r;
  logic [UW-1:0] user_r;
  logic [WO-1:0] y_r;

  // accept: the first step (dividend bit K, the 1 of 2^K, shifted into rem = 0)
  logic [WI-1:0] x_in;
  assign x_in = x_TDATA[WI-1:0];
  wire  x_le1 = (x_in[WI-1:1] == '0);   // 1 >= x: the result saturates

  // BUSY: one restoring step, the quotient bit is the subtraction's borrow
  logic [WI:0]   rem_sh;
  logic [WI+1:0] diff;
  assign rem_sh = {rem[WI-1:0], 1'b0};
  assign diff   = {1'b0, rem_sh} - {2'b00, d};
  wire   fits   = !diff[WI+1];

  // ROUND: (q + 1) >> 1 saturated to WO bits
  logic [WO+1:0] q_inc;
  assign q_inc = {1'b0, q[WO:0]} + (WO+2)'(1);
  // q + 1 >= 2^(WO+1); both terms flip-flops, so the select of y_r's 32 bits is one LUT (a WO+1-bit
  // AND here was ABC's 4-LUT chain behind q_inc's carry, 3.22 ns in a softmax netlist)
  wire sat = q_hi || q_ones;

  assign x_TREADY = idle;
  assign y_TVALID = done;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      state <= IDLE;
      idle  <= 1'b1;
      done  <= 1'b0;
    end else begin
      case (state)
        IDLE:  if (x_TVALID) state <= BUSY;
        BUSY:  if (last_step) state <= ROUND;
        ROUND: state <= DONE;
        DONE:  if (y_TREADY) state <= IDLE;
        default: state <= IDLE;
      endcase
      // the same moves: IDLE left on x_TVALID, entered from DONE on y_TREADY; DONE entered from ROUND
      if (idle) idle <= !x_TVALID;
      else if (done && y_TREADY) idle <= 1'b1;
      if (state == ROUND) done <= 1'b1;
      else if (y_TREADY) done <= 1'b0;
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && idle != (state == IDLE)) $error("reciprocal: idle differs from state == IDLE");
    if (ap_rst_n && done != (state == DONE)) $error("reciprocal: done differs from state == DONE");
    if (ap_rst_n && state == ROUND && q_ones != &q[WO:0]) $error("reciprocal: q_ones differs from &q[WO:0]");
  end
`endif

  always_ff @(posedge ap_clk) begin
    case (state)
      IDLE: begin
        d         <= x_in;
        rem       <= (WI+1)'(1);       // x >= 2: 1 < x, quotient bit 0 (x <= 1: unused)
        q         <= '0;
        q_ones    <= 1'b0;
        i         <= CW'(K - 1);
        last_step <= 1'b0;             // K >= 2: more steps follow
        q_hi      <= x_le1;            // x = 0 (all ones) or 1 (2^K >= 2^(WO+1)): saturates
        last_r    <= x_TLAST;
        user_r    <= x_TUSER;
      end
      BUSY: begin
        rem       <= fits ? diff[WI:0] : rem_sh;
        q         <= {q[K-1:0], fits};
        q_ones    <= (&q[WO-1:0]) && fits;                            // &{q[WO-1:0], fits}
        q_hi      <= q_hi || q[WO];                                   // the bit moving to WO + 1
        i         <= i - 1'b1;
        last_step <= (i == CW'(1));
      end
      ROUND: y_r <= sat ? {WO{1'b1}} : q_inc[WO:1];
      default: ;
    endcase
  end

  assign y_TDATA = LANE_W'(y_r);
  assign y_TLAST = last_r;
  assign y_TUSER = user_r;
  assign y_TKEEP = {(LANE_W/8){1'b1}};
  assign y_TSTRB = {(LANE_W/8){1'b1}};

  wire unused_ok = &{1'b0, x_TKEEP, x_TSTRB, x_TDATA, rem[WI], q_inc[0], q_inc[WO+1], q[K]};
endmodule

`default_nettype wire
