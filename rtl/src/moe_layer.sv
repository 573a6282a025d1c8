// The MoE layer's RTL top: gate logits in, moe_acc out (docs/moe.md, "RTL MoE layer"). Wires
// rtl/src/moe_router.sv (logits -> routing -> descriptor stream), two rtl/src/weight_fifo.sv
// instances (the experts' weight and bias words from DDR, fetched speculatively for every expert,
// the inactive experts' words dropped at the head once the layer's routing is known) and
// rtl/src/moe_experts.sv (the descriptor stream's calls on the linear engine). Bit-exact to
// python_ref.kernels.moe.run_schedule(x, weights, decode_descriptors(descriptor_words(route(logits), ...))).
// GATE_CALL = 0 (this header's ports): the gate's logits come in on logits_. GATE_CALL = 1
// (rtl/src/moe_layer_gate.sv, its ports described there): the gate's own linear call (x @ w_gate of
// the task) runs on moe_experts' engine, its logits go from moe_experts' g_ into the router, and
// task_id, n_tokens, layer_id ride with the x_ beats (moe_experts keeps the first beat's: run_user);
// the DDR streams carry each layer's gate image (not speculative) in front of its experts'. Not in
// either: the residual add x + moe_acc (the network's next step).
//
// Ports (Vitis stream naming, ap_ctrl_none):
//   task_id, n_tokens, layer_id
//             the run's gate task, T and MoE layer number, sampled at the run's first logits beat
//             (task_id and n_tokens stable from the cycle before it: moe_router's rule); layer_id is
//             the number the DDR side tags this layer's words with (ddr_TUSER_layer).
//   logits_   the gate logits (moe_router's x_: per token ceil(E/L) beats of L = SOFTMAX_LANES act lanes).
//   x_        LN2(x) of the layer (moe_experts' x_: T rows of ceil(D/LINEAR_IN) beats).
//   ddr_      the experts' weight words as DDR delivers them, for EVERY expert 0..E-1 in the frame's
//             order (fc1 image then fc2 image of expert 0, then expert 1, ...; pack_matrix_axi, TLAST
//             on each image's last word), tagged TUSER_spec = 1, TUSER_layer = layer_id, TUSER_expert.
//   ddrb_     the same for the bias images (pack_vector_axi, fc1 then fc2 of every expert).
//   y_        moe_acc (moe_experts' y_), TLAST on the layer's last beat.
//   err       moe_experts' err (a malformed descriptor stream; cannot happen with the router in front).
//
// Biases: like the weights, every expert's bias images are in DDR and only the active experts'
// may reach the engine's b_, in call order. They get their own small weight_fifo with the same
// tags and the same route pulse rather than riding in the weight stream: the engine has separate
// w_ and b_ ports, so one tagged stream would need a splitter that knows every call's image sizes,
// and a bias word stuck behind its call's weights (or the reverse) at one head could stall the engine
// (it takes b_ of a call while it still needs w_ words). Two FIFOs keep both streams independent.
//
// Route hold (GATE_CALL = 0 only): each weight_fifo keeps one routing mask; a new layer's mask written while words of the
// previous layer are still in the FIFO would strand them (their head waits for their layer's mask
// forever, weight_fifo.sv). In the frame the gate's own weights sit behind the previous layer's
// expert words in the same FIFO, so the next routing cannot come earlier; this top has no gate call,
// so it enforces the same order itself: the router's route pulse is passed to both FIFOs only once
// every word of the layers routed so far has left them (owed_* below: the words of all routed layers,
// NW_* a layer, minus the words pushed, plus the level), else it is held (pend) and the logits input
// is closed until it is passed (so the router's route_active and the sampled layer stay valid).
// The owed check is registered (ok_r): the pulse (issue_n) reaches the FIFOs one cycle after the last
// word left (with the router's pulse when nothing is owed); a FIFO's mask decides its head two cycles
// after its pulse (weight_fifo.sv). With GATE_CALL the order is the frame's own (a layer's routing needs
// its gate call, whose words queue behind all of the previous layer's): the router's pulse goes to the
// FIFOs as it is, never held, and the router's input has no gate in front of it. f_we, the pulse one
// register later, counts the layer's words into owed_*.
//
// Cycles: the router's (a token every max(NB + 1, K, softmax rate) cycles, then its descriptor words
// one per cycle), overlapped with the experts' x_ rows; the engine calls as moe_experts' with the
// weight FIFO's head in front (cosim.linear_schedule.Sequence with cosim.weight_fifo_schedule.WeightFifo:
// cosim/test_moe_layer.py's test_cycles checks every call's ap_ready / ap_done against them).
`default_nettype none

module moe_layer
  import model_pkg::*;
#(
    parameter int WF_DEPTH = LINEAR_WEIGHT_FIFO_DEPTH > 1 ? LINEAR_WEIGHT_FIFO_DEPTH : 16,
    parameter int BF_DEPTH = 16,           // bias words: a call's image is ceil(dim / BPW) words
    parameter int LAYER_BITS = 4,
    parameter int W_BITS = LINEAR_W_BITS,  // ddr_ / the engine's w_ word (hardware.weight_word.bits)
    parameter int W_ROWS = LINEAR_W_ROWS,  // rows per w_ word (linear_loader)
    // 1: the gate call runs on moe_experts' engine (x_, task, T and layer in; logits_ unused, see
    // "Gate call" above; rtl/src/moe_layer_gate.sv is this top with the gate's ports); 0: logits_ in
    parameter bit GATE_CALL = 1'b0
) (
    input  logic                           ap_clk,
    input  logic                           ap_rst_n,   // synchronous, active low
    input  logic [MOE_H_TASK_W-1:0]        task_id,
    input  logic [7:0]                     n_tokens,
    input  logic [LAYER_BITS-1:0]          layer_id,
    input  logic [SOFTMAX_LANES*ACT_W-1:0] logits_TDATA,
    input  logic                           logits_TVALID,
    output logic                           logits_TREADY,
    input  logic                           logits_TLAST,   // ignored
    input  logic [LINEAR_IN*ACT_W-1:0]     x_TDATA,
    input  logic                           x_TVALID,
    output logic                           x_TREADY,
    input  logic                           x_TLAST,        // ignored
    input  logic [W_BITS-1:0]              ddr_TDATA,
    input  logic                           ddr_TVALID,
    output logic                           ddr_TREADY,
    input  logic                           ddr_TLAST,
    input  logic                           ddr_TUSER_spec,
    input  logic [LAYER_BITS-1:0]          ddr_TUSER_layer,
    input  logic [$clog2(NUM_EXPERTS)-1:0] ddr_TUSER_expert,
    input  logic [AXI_WIDTH-1:0]           ddrb_TDATA,
    input  logic                           ddrb_TVALID,
    output logic                           ddrb_TREADY,
    input  logic                           ddrb_TLAST,
    input  logic                           ddrb_TUSER_spec,
    input  logic [LAYER_BITS-1:0]          ddrb_TUSER_layer,
    input  logic [$clog2(NUM_EXPERTS)-1:0] ddrb_TUSER_expert,
    output logic [LINEAR_OUT*ACT_W-1:0]    y_TDATA,
    output logic                           y_TVALID,
    input  logic                           y_TREADY,
    output logic                           y_TLAST,
    output logic                           err
);
  localparam int E   = NUM_EXPERTS;
  localparam int D   = FEATURE_DIM;
  localparam int H   = EXPERT_HIDDEN_DIM;
  localparam int WPW = W_BITS / WEIGHT_W;          // expert weights per DDR word
  // words of an out x in image (python_ref pack_matrix_w): rows padded to whole words, or row pairs
  // of LI-weight segments
  function automatic int image_words(input int n_out, input int n_in);
    return W_ROWS == 2 ? ((n_out + 1) / 2) * ((n_in + LINEAR_IN - 1) / LINEAR_IN) : n_out * ((n_in + WPW - 1) / WPW);
  endfunction
  localparam int BPW = AXI_WIDTH / BIAS_W;         // biases per word (pack_vector_axi)
  // words of one layer in each stream: every expert's fc1 (H x D) and fc2 (D x H) image
  localparam int NW_W = E * (image_words(H, D) + image_words(D, H));
  localparam int NW_B = E * ((H + BPW - 1) / BPW + (D + BPW - 1) / BPW);
  // owed counters: routed words minus pushed words, in -(DEPTH + 1) .. NW (pushes run at most a FIFO
  // ahead of the routed layers: the next layer's words wait at the head); kept modulo 2^OW, which
  // is all the zero test of owed + level needs
  localparam int OW_W = $clog2(NW_W + WF_DEPTH + 2) + 1;
  localparam int OW_B = $clog2(NW_B + BF_DEPTH + 2) + 1;

  if (E < 2) begin : g_chk
    $error("moe_layer: the weight FIFO's expert tag needs NUM_EXPERTS >= 2");
  end

  // ---- router, its logits input closed while a route pulse is held
  logic                  r_x_ready, r_route_we;
  logic [E-1:0]          r_route_active;
  logic [63:0]           d_data;
  logic                  d_valid, d_ready, d_last;
  logic                  pend, hold_n, in_run;   // hold_n: the hold of the next cycle
  logic [LAYER_BITS-1:0] layer_r;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [7:0]            d_keep, d_strb;   // all ones; moe_experts takes whole words
  /* verilator lint_on UNUSEDSIGNAL */

  // GATE_CALL: the layer's {layer, task, T} ride with its x_ beats into moe_experts, which keeps the
  // first beat's (run_user) for the whole layer: the router's task and T (stable long before the
  // first logit) and the route pulse's layer
  localparam int XU_W = 8 + MOE_H_TASK_W + LAYER_BITS;
  logic [XU_W-1:0]                 run_user;
  logic [SOFTMAX_LANES*ACT_W-1:0]  g_data;
  logic                            g_valid;
  wire  [MOE_H_TASK_W-1:0]         r_task = GATE_CALL ? run_user[8 +: MOE_H_TASK_W] : task_id;
  wire  [7:0]                      r_tok  = GATE_CALL ? run_user[7:0] : n_tokens;

  // the hold closes the router's input through its registered ready (x_hold_next = hold_n, the hold
  // of the next cycle), not by gating x_TVALID: the gate would sit in front of every handshake term
  // inside the router
  assign logits_TREADY = !GATE_CALL && r_x_ready;
  moe_router u_router (
      .ap_clk, .ap_rst_n, .task_id(r_task), .n_tokens(r_tok),
      .x_TDATA(GATE_CALL ? g_data : logits_TDATA), .x_TVALID(GATE_CALL ? g_valid : logits_TVALID), .x_hold_next(!GATE_CALL && hold_n),
      .x_TREADY(r_x_ready), .x_TLAST(GATE_CALL ? 1'b0 : logits_TLAST),
      .x_TKEEP('1), .x_TSTRB('1),
      .y_TDATA(d_data), .y_TVALID(d_valid), .y_TREADY(d_ready), .y_TLAST(d_last), .y_TKEEP(d_keep),
      .y_TSTRB(d_strb), .route_we(r_route_we), .route_active(r_route_active));

  // the layer number of the open run: sampled at its first logits beat (a run is open from there to
  // its route pulse; the next run's first beat comes after the run's last descriptor word);
  // GATE_CALL: moe_experts' run_user
  wire g_hs = logits_TVALID && logits_TREADY;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n)       in_run <= 1'b0;
    else if (r_route_we) in_run <= 1'b0;
    else if (g_hs)       in_run <= 1'b1;
    if (GATE_CALL) layer_r <= run_user[8 + MOE_H_TASK_W +: LAYER_BITS];
    else if (g_hs && !in_run) layer_r <= layer_id;
  end

  // ---- route hold (see the header). issue_n, the pulse into both FIFOs, is a gate on flip-flops (in a
  // FIFO it only enables the mask registers); hold closes the logits input while a pulse is held or
  // being written, so the router's route_active and layer_r are still the run's.
  logic [$clog2(WF_DEPTH):0] wf_level;
  logic [$clog2(BF_DEPTH):0] bf_level;
  logic [OW_W-1:0]           owed_w;
  logic [OW_B-1:0]           owed_b;
  logic                      ok_r, f_we;
  // GATE_CALL: no hold (the pulse one register late): the layer's gate words are behind every word
  // of the layers before it in both FIFOs, and its routing needs all its logits, so all its gate
  // words were taken: nothing of an earlier layer is left in either FIFO when the pulse comes
  wire req     = r_route_we || pend;
  wire issue_n = GATE_CALL ? r_route_we : req && ok_r && !f_we;
  wire pend_n  = !GATE_CALL && req && !issue_n;
  assign hold_n = pend_n || issue_n;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      pend   <= 1'b0;
      f_we   <= 1'b0;
      owed_w <= '0;
      owed_b <= '0;
      ok_r   <= 1'b0;
    end else begin
      pend   <= pend_n;
      f_we   <= issue_n;
      owed_w <= owed_w + (f_we ? OW_W'(NW_W) : '0) - OW_W'(ddr_TVALID && ddr_TREADY);
      owed_b <= owed_b + (f_we ? OW_B'(NW_B) : '0) - OW_B'(ddrb_TVALID && ddrb_TREADY);
      // owed + level = routed words not yet popped; false while a pulse is decided or written (its
      // words are not in owed yet)
      ok_r   <= owed_w + OW_W'(wf_level) == '0 && owed_b + OW_B'(bf_level) == '0 && !f_we && !issue_n;
    end
  end

  // ---- the two prefetch FIFOs
  logic [W_BITS-1:0]    w_data;
  logic [AXI_WIDTH-1:0] b_data;
  logic                 w_valid, w_ready, w_last, b_valid, b_ready, b_last;
  weight_fifo #(.WIDTH(W_BITS), .DEPTH(WF_DEPTH), .EXPERTS(E), .LAYER_BITS(LAYER_BITS)) u_wfifo (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .s_axis_tdata(ddr_TDATA), .s_axis_tlast(ddr_TLAST), .s_axis_tvalid(ddr_TVALID), .s_axis_tready(ddr_TREADY),
      .s_axis_tuser_spec(ddr_TUSER_spec), .s_axis_tuser_layer(ddr_TUSER_layer), .s_axis_tuser_expert(ddr_TUSER_expert),
      .route_we(issue_n), .route_layer(layer_r), .route_active(r_route_active),
      .m_axis_tdata(w_data), .m_axis_tlast(w_last), .m_axis_tvalid(w_valid), .m_axis_tready(w_ready),
      .level(wf_level));
  weight_fifo #(.WIDTH(AXI_WIDTH), .DEPTH(BF_DEPTH), .EXPERTS(E), .LAYER_BITS(LAYER_BITS)) u_bfifo (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .s_axis_tdata(ddrb_TDATA), .s_axis_tlast(ddrb_TLAST), .s_axis_tvalid(ddrb_TVALID), .s_axis_tready(ddrb_TREADY),
      .s_axis_tuser_spec(ddrb_TUSER_spec), .s_axis_tuser_layer(ddrb_TUSER_layer), .s_axis_tuser_expert(ddrb_TUSER_expert),
      .route_we(issue_n), .route_layer(layer_r), .route_active(r_route_active),
      .m_axis_tdata(b_data), .m_axis_tlast(b_last), .m_axis_tvalid(b_valid), .m_axis_tready(b_ready),
      .level(bf_level));

  // ---- the expert executor
  moe_experts #(.W_BITS(W_BITS), .W_ROWS(W_ROWS), .GATE_CALL(GATE_CALL), .XU_W(XU_W)) u_experts (
      .ap_clk, .ap_rst_n,
      .d_TDATA(d_data), .d_TVALID(d_valid), .d_TREADY(d_ready), .d_TLAST(d_last),
      .x_TDATA, .x_TVALID, .x_TREADY, .x_TLAST, .x_TUSER({layer_id, task_id, n_tokens}), .run_user,
      .g_TDATA(g_data), .g_TVALID(g_valid), .g_TREADY(r_x_ready),
      .w_TDATA(w_data), .w_TVALID(w_valid), .w_TREADY(w_ready), .w_TLAST(w_last),
      .b_TDATA(b_data), .b_TVALID(b_valid), .b_TREADY(b_ready), .b_TLAST(b_last),
      .y_TDATA, .y_TVALID, .y_TREADY, .y_TLAST, .err);

`ifndef SYNTHESIS
  // the hold keeps weight_fifo's rule: a mask is never replaced while its layer has words inside
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n && r_route_we && pend) $error("moe_layer: a route pulse while the previous one is held");
  end
  // GATE_CALL has no hold: check the rule it relies on. The layer tags of the words inside each FIFO
  // (pushed minus popped; the previous cycle's pops from the level: level now = level then + its push
  // - its pops); when a mask is written, none may be of the layer routed before (its mask is being
  // replaced; later layers' words wait at the head).
  if (GATE_CALL) begin : g_order_chk
    int wq[$], bq[$];
    int wl, bl, wpush, bpush, prev;
    logic [LAYER_BITS-1:0] layer_we;   // layer_r in the last cycle: the layer the FIFOs wrote at a pulse then
    always_ff @(posedge ap_clk) layer_we <= layer_r;
    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) begin
        wq.delete();
        bq.delete();
        wl <= 0;
        bl <= 0;
        wpush <= 0;
        bpush <= 0;
        prev <= -1;
      end else begin
        automatic int wpop = wl + wpush - int'(wf_level);
        automatic int bpop = bl + bpush - int'(bf_level);
        if (wpop < 0 || wpop > wq.size() || bpop < 0 || bpop > bq.size())
          $error("moe_layer: the FIFO order check lost track of the levels");
        repeat (wpop) void'(wq.pop_front());
        repeat (bpop) void'(bq.pop_front());
        if (ddr_TVALID && ddr_TREADY) wq.push_back(int'(ddr_TUSER_layer));
        if (ddrb_TVALID && ddrb_TREADY) bq.push_back(int'(ddrb_TUSER_layer));
        wpush <= int'(ddr_TVALID && ddr_TREADY);
        bpush <= int'(ddrb_TVALID && ddrb_TREADY);
        wl <= int'(wf_level);
        bl <= int'(bf_level);
        // the FIFOs wrote the mask at the end of the pulse's cycle (issue_n): f_we's cycle sees what they hold then
        if (f_we) begin
          foreach (wq[i]) if (wq[i] == prev)
            $error("moe_layer: layer %0d's mask written while the weight FIFO holds a word of layer %0d", layer_we, prev);
          foreach (bq[i]) if (bq[i] == prev)
            $error("moe_layer: layer %0d's mask written while the bias FIFO holds a word of layer %0d", layer_we, prev);
          prev <= int'(layer_we);
        end
      end
    end
  end
`endif
endmodule

`default_nettype wire
