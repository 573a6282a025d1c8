// The AV output stage of the attention unit (rtl/src/attention.sv): deferred normalisation and the
// output buffer. A beat from the MAC array (L exact sums U[r][ob L + o] of head h, with r_r in the
// step's user bits) is captured, then its L values go through NL attn_norm_lane lanes, NL per cycle
// (NCPB = L / NL cycles per beat; the step issuer starts AV rows at least NCPB cycles apart), and
// o = act(r U) (step 6) is written to the output buffer: word r * WPR + h DB + ob (the row's columns
// h d + ob L .. + L of attn_out), in L / NL banks of NL values (lane group k in bank k).
// out_rows counts the rows whose last word (head H-1, block DB-1) is written: the streamer sends
// row q once out_rows > q.
// Pipeline from the out_valid cycle v: capture (v+1), lane group k inputs (v+2+k), lane output
// (v+6+k), buffer write registers (v+7+k, written at the end of that cycle).
`default_nettype none

module attn_norm
  import model_pkg::*;
#(
    parameter int L     = LINEAR_IN,
    parameter int NL    = attn_pkg::default_nl(L),   // normalisation lanes: attention_core's default, so a stand-alone build counts its DSP48E2
    parameter int TMAX  = NUM_TOKENS,
    parameter int H     = NUM_HEADS,
    parameter int DB    = HEAD_DIM / L,
    parameter int WPR   = FEATURE_DIM / L,
    parameter int ACC_W = 64,
    parameter int AWD   = $clog2(TMAX * WPR),
    parameter int HW    = H > 1 ? $clog2(H) : 1,
    parameter int UW    = attn_pkg::user_w(HW)
) (
    input  logic               clk,
    input  logic               rst_n,       // synchronous, active low
    input  logic               start,
    input  logic               acc_valid,
    input  logic [L*ACC_W-1:0] acc,
    input  logic [UW-1:0]      acc_user,
    output logic [7:0]         out_rows,
    output logic               out_inc,     // out_rows moves up by one at this edge (unless start / reset)
    input  logic [AWD-1:0]     o_raddr,
    output logic [L*ACT_W-1:0] o_rdata
);
  localparam int NCPB = L / NL;
  localparam int KW   = NCPB > 1 ? $clog2(NCPB) : 1;
  localparam int KF   = ATTENTION_KV_W - ATTENTION_KV_I;   // V's fraction bits
  localparam int AF   = ACT_W - ACT_I;
  localparam int OSH  = 31 + 24 + KF - AF;      // RECIP frac + EXP frac + V frac - act frac
  localparam int LAT  = 4;                      // attn_norm_lane

  if (NL < 1 || L % NL != 0 || ACT_QUANT != 0 || RECIP_SOFTMAX_WO != 32 || EXP_OUT_FRAC != 24 ||
      RECIP_SOFTMAX_K != 24 + 31 + 1 || ACC_W != 64 || DB * L != HEAD_DIM) begin : g_chk
    $error("attn_norm: needs act with AP_TRN (floor), r in ap_ufixed<32,1>, e in ap_ufixed<25,1>, NL dividing L");
  end

  // the step tag (attn_issue, layout in attn_pkg): u.blk is the output block, u.last its row's last
  wire attn_pkg::step_tag_t   u      = acc_user[attn_pkg::U_HEAD-1:0];
  wire [HW-1:0]               u_head = acc_user[attn_pkg::U_HEAD +: HW];
  wire [attn_pkg::U_RV_W-1:0] u_rv   = acc_user[UW-1 -: attn_pkg::U_RV_W];


  // ---- capture; group sequencer
  logic [ACC_W-1:0] ucap [L];
  logic [31:0]      rcap;
  logic             cfin;
  logic [AWD-1:0]   caddr;
  logic [KW-1:0]    gk;
  logic             grun;
  wire              cap = acc_valid && u.av;
  always_ff @(posedge clk) begin
    if (cap) begin
      for (int o = 0; o < L; o++) ucap[o] <= acc[o*ACC_W +: ACC_W];
      rcap  <= u_rv;
      cfin  <= u.last && u_head == HW'(H - 1);
      caddr <= AWD'(attn_pkg::mul_const(32'(u.row), WPR)) + AWD'(attn_pkg::mul_const(32'(u_head), DB)) + AWD'(u.blk);
    end
    if (!rst_n || start) begin
      grun <= 1'b0;
      gk   <= '0;
    end else if (cap) begin
      grun <= 1'b1;
      gk   <= '0;
    end else if (grun) begin
      grun <= gk != KW'(NCPB - 1);
      gk   <= gk + 1'b1;
    end
  end

  // ---- lane inputs (group gk), then the lanes; tags ride along LAT + 1 stages
  logic [ACC_W-1:0] lu [NL];
  logic [31:0]      lr;
  localparam int TW = 1 + 1 + 1 + KW + AWD;     // {valid, final, last group, group, address}
  logic [TW-1:0]    tg [LAT+1];
  always_ff @(posedge clk) begin
    for (int l = 0; l < NL; l++) lu[l] <= ucap[int'(gk) * NL + l];
    lr <= rcap;
    if (!rst_n || start) tg[0] <= '0;
    else tg[0] <= {grun, cfin, gk == KW'(NCPB - 1), gk, caddr};
    for (int s = 1; s <= LAT; s++) begin
      if (!rst_n || start) tg[s] <= '0;
      else tg[s] <= tg[s-1];
    end
  end
  logic [ACT_W-1:0] lo [NL];
  for (genvar l = 0; l < NL; l++) begin : g_lane
    attn_norm_lane #(.OSH(OSH), .LATENCY(LAT)) u_lane (.clk(clk), .u(lu[l]), .r(lr), .o(lo[l]));
  end

  // ---- output buffer writes (tg[LAT] pairs with the lane outputs)
  logic [NL*ACT_W-1:0] wd;
  logic [TW-1:0]       wt;
  always_ff @(posedge clk) begin
    for (int l = 0; l < NL; l++) wd[l*ACT_W +: ACT_W] <= lo[l];
    wt <= tg[LAT];
    if (!rst_n || start) out_rows <= '0;
    else if (out_inc) out_rows <= out_rows + 8'd1;
  end
  assign out_inc = wt[TW-1] && wt[TW-2] && wt[TW-3];
  for (genvar b = 0; b < NCPB; b++) begin : g_obuf
    attn_ram #(.W(NL * ACT_W), .DEPTH(TMAX * WPR), .AW(AWD)) u_o (
        .clk(clk), .we(wt[TW-1] && wt[AWD +: KW] == KW'(b)), .waddr(wt[AWD-1:0]), .wdata(wd), .raddr(o_raddr),
        .rdata(o_rdata[b*NL*ACT_W +: NL*ACT_W]));
  end
endmodule

`default_nettype wire
