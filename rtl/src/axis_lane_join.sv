// AXI-Stream width-up converter: N_OUT / N_IN input beats of N_IN lanes leave as one beat of N_OUT
// lanes, the first input beat in the low lanes (the inverse of rtl/src/axis_lane_split.sv). An input
// beat is taken every cycle unless the output register is full and not being taken in the cycle the
// last piece of the next beat would arrive; m_data and m_valid are flip-flops.
// Used between LayerNorm (LAYERNORM_LANES a beat) and an engine of more lanes (tiny: 2 against the
// attention array's 4): rtl/src/attention_block.sv.
`default_nettype none

module axis_lane_join #(
    parameter int W     = 32,   // bits a lane
    parameter int N_IN  = 1,    // lanes an input beat (divides N_OUT)
    parameter int N_OUT = 4     // lanes an output beat
) (
    input  logic                clk,
    input  logic                rst_n,   // synchronous, active low
    input  logic [N_IN*W-1:0]   s_data,
    input  logic                s_valid,
    output logic                s_ready,
    output logic [N_OUT*W-1:0]  m_data,
    output logic                m_valid,
    input  logic                m_ready
);
  if (N_IN < 1 || N_OUT % N_IN != 0 || N_OUT / N_IN < 2) begin : g_chk
    $error("axis_lane_join: N_IN (%0d) must divide N_OUT (%0d) at least twice", N_IN, N_OUT);
  end
  localparam int R  = N_OUT / N_IN;          // input beats an output beat
  localparam int CW = $clog2(R);

  logic [(R-1)*N_IN*W-1:0] acc;              // the pieces 0 .. cnt-1 of the beat being assembled
  logic [CW-1:0]           cnt;
  logic                    last_piece;       // cnt == R - 1, a flip-flop (from cnt's count, it was the
                                             // worst path of attention_block: 3.40 ns)
  wire  fire = s_valid && s_ready;

  assign s_ready = !last_piece || !m_valid || m_ready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      cnt        <= '0;
      last_piece <= 1'b0;
      m_valid    <= 1'b0;
    end else begin
      if (fire) begin
        cnt        <= last_piece ? '0 : cnt + CW'(1);
        last_piece <= !last_piece && cnt == CW'(R - 2);
      end
      if (fire && last_piece) m_valid <= 1'b1;
      else if (m_ready) m_valid <= 1'b0;
    end
  end

  always_ff @(posedge clk) begin
    if (fire && !last_piece) acc[cnt*N_IN*W +: N_IN*W] <= s_data;
    if (fire && last_piece) m_data <= {s_data, acc};
  end
endmodule

`default_nettype wire
