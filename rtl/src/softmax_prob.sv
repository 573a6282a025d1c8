// Two-pass softmax probability stage, bit-exact to python_ref.kernels.softmax.softmax_two_pass_raw:
//   p_i = round(e_i * r / 2^31)   (e: ap_ufixed<25,1>, 24 fraction bits; r: ap_ufixed<32,1>, 31;
//                                  p: ap_ufixed<25,1>; round half up; p <= 1 since e <= 1, r <= 1)
// Input: the e beats of each row (L lanes, the row's last beat flagged) and the row's statistics
// {r, s, m} from softmax_stats. A beat issues when both are there and the output FIFO has room
// (credits, rtl/src/credit_join.sv: nothing in the pipeline ever stalls): Q1 the L products
// e_i * r (25 x 32, as two registered partial products), Q2 their sum and the rounding
// (registered), then the output FIFO.
// The statistics are consumed with the row's last beat; row_done pulses then (the softmax top's
// row credit).
// Output beat: lanes 0..L-1 = p (zero-extended to 32 bits), lane L = m, L+1 = s, L+2 = r; y_last
// on the row's last beat.
`default_nettype none

module softmax_prob
  import model_pkg::*;
#(
    parameter int L  = 1,
    parameter int DO = 8     // output FIFO depth (>= the 2-stage pipeline + the slice for full rate)
) (
    input  logic                  clk,
    input  logic                  rst_n,      // synchronous, active low
    input  logic                  e_valid,
    output logic                  e_ready,
    input  logic [L*25-1:0]       e_data,
    input  logic                  e_last,
    input  logic                  st_valid,
    output logic                  st_ready,
    input  logic [ACT_W-1:0]      st_m,
    input  logic [31:0]           st_s,
    input  logic [31:0]           st_r,
    output logic                  row_done,
    output logic                  y_valid,
    input  logic                  y_ready,
    output logic [(L+3)*32-1:0]   y_data,
    output logic                  y_last
);
  localparam int W  = ACT_W;
  localparam int EW = 25;
  localparam int PW = EW + 32;              // e * r
  localparam int SH = 24 + 31 - 24;         // fraction bits e * r -> p

  if (W != 32 || DO < 4) begin : g_chk
    $error("softmax_prob: 32-bit lanes and an output FIFO of >= 4 entries");
  end

  logic          o_freed, issue;
  credit_join #(.DEPTH(DO)) u_join (
      .clk(clk), .rst_n(rst_n), .beat_valid(e_valid), .beat_last(e_last), .beat_ready(e_ready),
      .row_valid(st_valid), .row_ready(st_ready), .freed(o_freed), .issue(issue));

  always_ff @(posedge clk) begin
    if (!rst_n) row_done <= 1'b0;
    else row_done <= issue && e_last;
  end

  // The row's side band beside the products, one register stage per pipeline stage (side[1] with
  // Q1, side[2] with Q2); valid beside it, the only one reset. The fields in the order of the output
  // FIFO's word above the p lanes: {last, r (lane L+2), s (L+1), m (L)}
  typedef struct packed {
    logic         last;
    logic [31:0]  r, s;
    logic [W-1:0] m;
  } side_t;
  side_t       side [2:1];
  logic  [2:1] qv;            // qv[k]: stage Qk holds a beat
  always_ff @(posedge clk) begin
    if (!rst_n) qv <= '0;
    else qv <= {qv[1], issue};
    side[1] <= '{last: e_last, m: st_m, s: st_s, r: st_r};
    side[2] <= side[1];
  end

  // Q1: products, as two partial products e * r[16:0] and e * r[31:17] (each one DSP48E2 multiply
  // between registers: the sum of the full 25 x 32 product sat behind the DSP in one cycle)
  localparam int RL = 17;                   // r bits in the low partial product
  logic [EW+RL-1:0]    pl [L];
  logic [EW+32-RL-1:0] ph [L];
  always_ff @(posedge clk) begin
    for (int i = 0; i < L; i++) begin
      pl[i] <= (EW+RL)'(e_data[i*EW +: EW]) * (EW+RL)'(st_r[RL-1:0]);
      ph[i] <= (EW+32-RL)'(e_data[i*EW +: EW]) * (EW+32-RL)'(st_r[31:RL]);
    end
  end

  // Q2: rounding
  logic [EW-1:0] p [L];
  always_ff @(posedge clk) begin
    // (e r + 2^(SH-1)) >> SH with e r = pl + 2^RL ph: pl's low RL bits cannot carry past bit SH (SH > RL)
    for (int i = 0; i < L; i++)
      p[i] <= EW'(((PW-RL)'(pl[i] >> RL) + (PW-RL)'(ph[i]) + ((PW-RL)'(1) << (SH - 1 - RL))) >> (SH - RL));
  end

  logic [L*32-1:0] p_lanes;
  always_comb for (int i = 0; i < L; i++) p_lanes[i*32 +: 32] = 32'(p[i]);

  axis_fifo #(.WIDTH((L + 3) * 32 + 1), .DEPTH(DO)) u_out (
      .clk(clk), .rst_n(rst_n), .s_axis_tdata({side[2], p_lanes}), .s_axis_tvalid(qv[2]),
      .m_axis_tdata({y_last, y_data}), .m_axis_tvalid(y_valid), .m_axis_tready(y_ready), .freed(o_freed));
endmodule

`default_nettype wire
