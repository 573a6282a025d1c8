// Weight prefetch FIFO in front of the linear engine's w_ port (cycle model: cosim/weight_fifo_schedule.py).
// DDR (a DMA) pushes the frame's weight words in order whenever s_axis_tready is high; the engine takes
// them on m_axis. Words of a MoE layer's experts (tuser_spec) are fetched before the layer's routing is
// known; the head then waits on such a word until a routing mask for its layer is visible, offers it if
// its expert is active and drops it (pops it without offering, one word per cycle) if not.
//
// Schedule (word k pushed at the end of cycle F_k, popped - taken or dropped - at the end of P_k):
// * level = words pushed minus words popped, counted until a word leaves the head register, so
//   s_axis_tready = level < DEPTH keeps axis_fifo's memory (which never holds more than level words) from
//   overflowing: F_k >= P_{k-DEPTH} + 1. level <= DEPTH always, so level < DEPTH is !level[AW], one flop,
//   for a power-of-two DEPTH (any other: the top bit of a second count offset by 2^AW - DEPTH): no
//   compare of the level behind the ready (the adder hangs off the pop, s_axis_tready does not);
// * storage: axis_fifo (SYNC_READ = 1: memory read register, output slice), then the head register:
//   word k at the head from max(F_k + 3, P_{k-1} + 1), one word per cycle;
// * head filter: offered (m_axis_tvalid) unless speculative; a speculative word whose layer has the
//   visible mask is offered if its expert is active, dropped if not, and waits otherwise (mask not
//   written, or another layer's). The filter's flags (kept, drop) are registered with the word: computed
//   one cycle ahead for the word the head holds next (the FIFO's output on a load, else its own) against
//   the mask registers, so m_axis_tvalid and the pop are a gate on flops. Evaluating the filter
//   on axis_fifo's output slice instead (its tags -> mask mux -> its ready -> the slice's enables) was
//   6 LUT levels, 3.97 ns; the head register costs the extra cycle of latency (F_k + 3, not + 2);
// * route_we writes the mask at the edge closing its cycle t; the flags formed in t + 1 from it decide the
//   head from t + 2 (cosim.weight_fifo_schedule.ROUTE_TO_HEAD): the route inputs reach only registers
//   (the mask, and the head word's flags for the cycle after the pulse), never the head's logic. One
//   mask: the next layer's routing must be written after the previous layer's words have all left (the
//   frame's order guarantees it: a layer's routing needs the previous layer's expert outputs), so at the
//   pulse no word in the FIFO or the head is of a routed layer: a speculative one waits (its flags 00)
//   and keeps waiting under the old mask in the pulse's cycle.
`default_nettype none

module weight_fifo
  import model_pkg::*;
#(
    // defaults: the config's FIFO (hardware.weight_fifo.depth) on the engine's w_ word
    // (hardware.weight_word.bits), so that a synthesis of the module alone (`make synth`, `make timing`)
    // is the accelerator's
    parameter int WIDTH = LINEAR_W_BITS,
    parameter int DEPTH = LINEAR_WEIGHT_FIFO_DEPTH > 1 ? LINEAR_WEIGHT_FIFO_DEPTH : 16,
    parameter int EXPERTS = NUM_EXPERTS > 1 ? NUM_EXPERTS : 2,
    parameter int LAYER_BITS = 4,
    parameter int FIFO_BANK = 1024      // axis_fifo's BANK (a DEPTH that is not a power of two: 1K-deep rows)
) (
    input  logic                       clk,
    input  logic                       rst_n,    // synchronous, active low
    // write side (DDR/DMA)
    input  logic [WIDTH-1:0]           s_axis_tdata,
    input  logic                       s_axis_tlast,
    input  logic                       s_axis_tvalid,
    output logic                       s_axis_tready,
    input  logic                       s_axis_tuser_spec,     // 1: the word belongs to an expert (speculative)
    input  logic [LAYER_BITS-1:0]      s_axis_tuser_layer,
    input  logic [$clog2(EXPERTS)-1:0] s_axis_tuser_expert,
    // routing mask: {route_layer, route_active} written by a route_we pulse, deciding the head two cycles later
    input  logic                       route_we,
    input  logic [LAYER_BITS-1:0]      route_layer,
    input  logic [EXPERTS-1:0]         route_active,
    // read side (the engine's w_)
    output logic [WIDTH-1:0]           m_axis_tdata,
    output logic                       m_axis_tlast,
    output logic                       m_axis_tvalid,
    input  logic                       m_axis_tready,
    output logic [$clog2(DEPTH):0]     level     // words pushed and not yet popped (taken or dropped)
);
  localparam int AW = $clog2(DEPTH);
  localparam int EB = $clog2(EXPERTS);
  localparam int NE = 1 << EB;                       // expert tag values
  localparam int TW = WIDTH + 2 + LAYER_BITS + EB;   // {last, spec, layer, expert, data}
  if (DEPTH < 2) begin : g_chk_depth
    $error("weight_fifo: DEPTH must be >= 2, got %0d", DEPTH);
  end
  if (EXPERTS < 2 || LAYER_BITS < 1) begin : g_chk_tags
    $error("weight_fifo: EXPERTS must be >= 2 and LAYER_BITS >= 1, got %0d and %0d", EXPERTS, LAYER_BITS);
  end

  wire push = s_axis_tvalid && s_axis_tready;

  // ---- storage: axis_fifo, then the head register (h_*) holding the word and its filter flags
  logic [WIDTH-1:0]      f_data, h_data;
  logic                  f_last, f_spec, f_valid, h_last, h_spec;
  logic [LAYER_BITS-1:0] f_layer, h_layer;
  logic [EB-1:0]         f_expert, h_expert;
  logic                  h_valid, h_kept, h_drop;
  /* verilator lint_off UNUSEDSIGNAL */
  logic                  f_freed;    // the level counts to the head's exit instead (see above)
  /* verilator lint_on UNUSEDSIGNAL */
  logic h_open;   // a flip-flop copy of !h_valid || h_drop (below)
  wire leave  = h_valid && ((h_kept && m_axis_tready) || h_drop);   // the pop: taken or dropped
  // f_take == !h_valid || leave, formed from h_open: one LUT from the engine's ready to the FIFO's
  // output slice; keep holds it as its own node so that ABC does not rebuild it from h_valid / h_drop
  // behind the shared handshake terms (4 LUT, 3.25 ns, in moe_layer)
  (* keep *) wire f_take = h_open || (h_kept && m_axis_tready);
  wire load   = f_valid && f_take;
  axis_fifo #(.WIDTH(TW), .DEPTH(DEPTH), .SYNC_READ(1'b1), .BANK(FIFO_BANK)) u_fifo (
      .clk(clk), .rst_n(rst_n),
      .s_axis_tdata({s_axis_tlast, s_axis_tuser_spec, s_axis_tuser_layer, s_axis_tuser_expert, s_axis_tdata}),
      .s_axis_tvalid(push),
      .m_axis_tdata({f_last, f_spec, f_layer, f_expert, f_data}), .m_axis_tvalid(f_valid), .m_axis_tready(f_take),
      .freed(f_freed));

  // ---- routing mask
  logic                  mask_valid;
  logic [LAYER_BITS-1:0] mask_layer;
  logic [NE-1:0]         mask_active;   // padded with inactive experts up to the tag's range
  // mask_lhot: the routed layer one-hot (bit l: mask_valid && mask_layer == l), so that the head's
  // test against the registered mask is two table lookups by the word's tags (layer, expert) instead
  // of a LAYER_BITS compare, a lookup and their AND (mask_layer -> 6 LUT -> h_open / h_drop, 3.07 ns
  // in moe_layer_gate on edge_moe). mask_valid and mask_layer remain for the simulation's check.
  localparam int NL = 1 << LAYER_BITS;
  logic [NL-1:0]         mask_lhot;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      mask_valid <= 1'b0;
      mask_lhot  <= '0;
    end else if (route_we) begin
      mask_valid <= 1'b1;
      mask_lhot  <= NL'(1) << route_layer;
    end
    if (route_we) begin
      mask_layer  <= route_layer;
      mask_active <= NE'(route_active);
    end
  end

  // ---- head filter, one cycle ahead: the flags of the head's word in the next cycle (a new word from the
  // FIFO, or the same one) against the mask registers, so that m_axis_tvalid and the pop are a gate or two
  // on flops. Two candidates, formed in parallel from flip-flops; `f_take` selects in the last LUT, so the
  // head's handshake (h_valid -> leave -> load) does not run through a lookup:
  // * the FIFO's output word: its tags looked up in the mask registers (f_mask);
  // * the head's own word: its flags as they are ({h_kept, h_drop} were formed for this word against this
  //   mask), except in the cycle after a route_we (rw_q), when its flags against the new mask come from
  //   registers: fr_q / hr_q, the FIFO's and the head's word of the pulse's cycle looked up in the route
  //   inputs, one of which is the head's word now (tk_q: the head took the FIFO's word then).
  // The route lookups end in those registers, never in the head's logic. (Forming both words' flags
  // against the route in the pulse's cycle, selected by route_we, mapped the route lookup to 6 LUT:
  // route_active -> h_drop / h_open, 3.06 ns in moe_layer on edge_moe; looking the head's word up in the
  // mask registers every cycle, 6 LUT from h_expert, 3.02 in weight_fifo alone.)
  // {kept, drop} of a word: offered unless speculative; speculative and its layer routed: kept if its
  // expert is active, dropped if not
  function automatic logic [1:0] flags(input logic spec, input logic routed, input logic active);
    return {!spec || (routed && active), spec && routed && !active};
  endfunction
  function automatic logic [1:0] filter(input logic spec, input logic [LAYER_BITS-1:0] layer,
                                        input logic [EB-1:0] expert, input logic m_valid,
                                        input logic [LAYER_BITS-1:0] m_layer, input logic [NE-1:0] m_act);
    return flags(spec, m_valid && m_layer == layer, m_act[expert]);
  endfunction
  // The two lookups by the FIFO word's tags, each as 4-way groups by the low two tag bits (a LUT6 per
  // group: four mask bits, two tag bits), then the group by the high bits, each level its own node.
  localparam int EG = (NE + 3) / 4;                 // groups of 4 experts
  localparam int LG = (NL + 3) / 4;                 // groups of 4 layers
  (* keep *) wire [EG-1:0] f_act_g;
  (* keep *) wire [LG-1:0] f_rt_g;
  for (genvar g = 0; g < EG; g++) begin : g_act
    wire [3:0] grp = 4'(mask_active >> (4 * g));
    assign f_act_g[g] = grp[2'(f_expert)];
  end
  for (genvar g = 0; g < LG; g++) begin : g_rt
    wire [3:0] grp = 4'(mask_lhot >> (4 * g));
    assign f_rt_g[g] = grp[2'(f_layer)];
  end
  logic f_act, f_rt;
  if (EB > 2) begin : g_act_hi
    assign f_act = f_act_g[f_expert[EB-1:2]];
  end else begin : g_act_one
    assign f_act = f_act_g[0];
  end
  if (LAYER_BITS > 2) begin : g_rt_hi
    assign f_rt = f_rt_g[f_layer[LAYER_BITS-1:2]];
  end else begin : g_rt_one
    assign f_rt = f_rt_g[0];
  end
  // keep: each candidate is its own node (without it ABC folded the late f_take into the tag compares
  // of the flattened moe_layer: 6 LUT to h_open, 3.47 ns; with it 3.02)
  (* keep *) wire [1:0] f_mask  = flags(f_spec, f_rt, f_act);
  logic [1:0] fr_q, hr_q;   // the pulse cycle's FIFO word / head word against the route inputs
  logic       rw_q, tk_q;   // a route_we / f_take in the last cycle
  always_ff @(posedge clk) begin
    if (!rst_n) rw_q <= 1'b0;
    else        rw_q <= route_we;
    tk_q <= f_take;
    fr_q <= filter(f_spec, f_layer, f_expert, 1'b1, route_layer, NE'(route_active));
    hr_q <= filter(h_spec, h_layer, h_expert, 1'b1, route_layer, NE'(route_active));
  end
  (* keep *) wire [1:0] h_cand = rw_q ? (tk_q ? fr_q : hr_q) : {h_kept, h_drop};
  // The flags follow the FIFO's word whenever the head takes one (f_take; when the FIFO has none the
  // head is empty next and its flags are unused). f_take is formed from h_open, a copy of
  // !h_valid || h_drop in its own flip-flop (!f_take implies h_valid).
  // a FIFO word makes the head valid whether or not it is taken now: if not (!f_take), the head
  // holds its own word (h_valid, not leaving) and stays valid anyway
  wire  valid_n    = f_valid || (h_valid && !(h_kept && m_axis_tready) && !h_drop);
  wire [1:0] n_flags = f_take ? f_mask : h_cand;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      h_valid <= 1'b0;
      h_open  <= 1'b1;
    end else begin
      h_valid <= valid_n;
      h_open  <= !valid_n || n_flags[0];
    end
    {h_kept, h_drop} <= n_flags;
    if (load) {h_last, h_spec, h_layer, h_expert, h_data} <= {f_last, f_spec, f_layer, f_expert, f_data};
  end
  assign m_axis_tdata  = h_data;
  assign m_axis_tlast  = h_last;
  assign m_axis_tvalid = h_valid && h_kept;
  wire pop = leave;

  // ---- level and the write side's ready
  always_ff @(posedge clk) begin
    if (!rst_n) level <= '0;
    else        level <= level + (AW+1)'(push) - (AW+1)'(pop);
  end
  if ((1 << AW) == DEPTH) begin : g_ready_pow2
    assign s_axis_tready = !level[AW];
  end else begin : g_ready_offset
    // the same one-flop ready for any DEPTH: a second count, the level plus 2^AW - DEPTH, reaches
    // 2^AW (its top bit) exactly when the level reaches DEPTH
    logic [AW:0] lvo;
    always_ff @(posedge clk) begin
      if (!rst_n) lvo <= (AW+1)'((1 << AW) - DEPTH);
      else        lvo <= lvo + (AW+1)'(push) - (AW+1)'(pop);
    end
    assign s_axis_tready = !lvo[AW];
`ifndef SYNTHESIS
    always_ff @(posedge clk) begin
      if (rst_n && lvo != level + (AW+1)'((1 << AW) - DEPTH)) $error("weight_fifo: lvo differs from level + 2^AW - DEPTH");
    end
`endif
  end

`ifndef SYNTHESIS
  logic held_q;   // last cycle offered a word that was not taken
  // the mask registers of the last cycle: the head's flags were formed from them
  logic                  pm_valid;
  logic [LAYER_BITS-1:0] pm_layer;
  logic [NE-1:0]         pm_active;
  always_ff @(posedge clk) begin
    pm_layer  <= mask_layer;
    pm_active <= mask_active;
    if (!rst_n) begin
      held_q   <= 1'b0;
      pm_valid <= 1'b0;
    end else begin
      held_q   <= m_axis_tvalid && !m_axis_tready;
      pm_valid <= mask_valid;
      if (route_we && rw_q) $error("weight_fifo: route_we in two consecutive cycles");
      if (route_we && h_valid && !leave && h_spec && mask_valid && mask_layer == h_layer)
        $error("weight_fifo: route_we for layer %0d while the head holds a word of routed layer %0d", route_layer, h_layer);
      if (pop && level == '0) $error("weight_fifo: a pop without a word pushed");
      if (level > (AW+1)'(DEPTH)) $error("weight_fifo: level %0d above DEPTH %0d", level, DEPTH);
      if (h_open != (!h_valid || h_drop))
        $error("weight_fifo: h_open %0b is not !h_valid || h_drop (%0b, %0b)", h_open, h_valid, h_drop);
      else if (f_take != (!h_valid || leave)) $error("weight_fifo: f_take differs from !h_valid || leave");
      if (mask_lhot != (mask_valid ? NL'(1) << mask_layer : '0)) $error("weight_fifo: mask_lhot differs from mask_valid / mask_layer");
      if (h_valid && {h_kept, h_drop} != filter(h_spec, h_layer, h_expert, pm_valid, pm_layer, pm_active))
        $error("weight_fifo: the head's flags differ from its word's filter against the last cycle's mask");
      if (held_q && !m_axis_tvalid)
        $error("weight_fifo: an offered word was withdrawn (a route_we replaced its layer's mask before it was taken)");
    end
  end
`endif
endmodule

`default_nettype wire
