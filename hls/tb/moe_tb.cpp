// C-simulation testbench of the MoE kernel's two tops (hls/tb/tb_io.h calling convention:
// moe_tb <vector_dir>; cosim/moe_vectors.py: moe_csim writes the folder).
//
// Router part, moe_top: meta.txt cases; task.txt (one task per case), x.txt (per case NUM_TOKENS x
// FEATURE_DIM raw act_t), w_gate.txt (per case NUM_TASKS x NUM_EXPERTS x FEATURE_DIM raw
// gate_weight_t). Outputs per case: status, logits (T x E), p (T x E), topk_idx (T x K), topk_score
// (T x K), queue_len (E), the queues' tokens concatenated in expert order, their scores likewise,
// num_active, active[0..n-1].
//
// Layer part, moe_layer_top (after the router part's outputs): meta.txt layer_cases, layer_experts;
// layer_cases.txt (per case: task, index of its expert part), layer_h.txt (per case T x D raw act_t:
// LN2(x)), layer_gate.txt (per case MOE_LAYER_EXPERTS AXI words, hex: every task's gate),
// layer_experts.txt (layer_experts parts of NUM_EXPERTS x BB_EXPERT_WORDS words, hex), layer_layout.txt
// (the packer's offsets, which must equal moe_layer.h's: exit 2 naming the first that differs). The
// testbench joins a case's gate words and its expert part into the weight image moe_layer_top reads
// (the MoE part of a MoE block of backbone_top's image). Outputs per case: moe_acc, T x D raw act_t.
//
// Before the cases the testbench calls each top with task = NUM_TASKS (moe_top on the first router
// case's inputs, when there is one) and checks that it reports status 1 and writes nothing (exit 1
// otherwise). expected.txt: python_ref (gate_logits and route;
// moe_raw(...).moe_acc).
#include "moe.h"
#include "moe_layer.h"
#include "tb_raw.h"

#include <map>
#include <string>
#include <type_traits>

namespace {
constexpr int T = NUM_TOKENS, D = FEATURE_DIM, E = NUM_EXPERTS, K = TOP_K;

struct Outputs {
    std::vector<act_t> logits = std::vector<act_t>(T * E), topk_score = std::vector<act_t>(T * K),
                       queue_score = std::vector<act_t>(E * T);
    std::vector<softmax_prob_t> p = std::vector<softmax_prob_t>(T * E);
    std::vector<moe_expert_t> topk_idx = std::vector<moe_expert_t>(T * K), active = std::vector<moe_expert_t>(E);
    std::vector<moe_count_t> queue_len = std::vector<moe_count_t>(E);
    std::vector<moe_token_t> queue_token = std::vector<moe_token_t>(E * T);
    moe_count_t num_active = 0;
    unsigned status = 0;

    void fill(int v) {  // a recognisable pattern: nothing written must leave it
        for (auto& a : logits) a = from_raw<act_t>(v);
        for (auto& a : topk_score) a = from_raw<act_t>(v);
        for (auto& a : queue_score) a = from_raw<act_t>(v);
        for (auto& a : p) a = from_raw<softmax_prob_t>(v);
        for (auto& a : topk_idx) a = v;
        for (auto& a : active) a = v;
        for (auto& a : queue_len) a = v;
        for (auto& a : queue_token) a = v;
    }
    bool all(int v) const {
        for (auto& a : logits) if (raw_of(a) != v) return false;
        for (auto& a : topk_score) if (raw_of(a) != v) return false;
        for (auto& a : queue_score) if (raw_of(a) != v) return false;
        for (auto& a : p) if (raw_of(a) != v) return false;
        for (auto& a : topk_idx) if (a != v) return false;
        for (auto& a : active) if (a != v) return false;
        for (auto& a : queue_len) if (a != v) return false;
        for (auto& a : queue_token) if (a != v) return false;
        return true;
    }
    void run(const act_t* x, const gate_weight_t* w, unsigned task) {
        moe_top(x, w, task, logits.data(), p.data(), topk_idx.data(), topk_score.data(), queue_len.data(),
                queue_token.data(), queue_score.data(), active.data(), num_active, status);
    }
};

std::map<std::string, long long> layer_layout() {
    return {{"experts", MOE_LAYER_EXPERTS}, {"expert_w1", BB_X_W1}, {"expert_b1", BB_X_B1}, {"expert_w2", BB_X_W2},
            {"expert_b2", BB_X_B2}, {"expert_words", BB_EXPERT_WORDS}, {"weight_words", MOE_LAYER_WEIGHT_WORDS}};
}

constexpr int R = bb_row_words(D);  // words per activation row
constexpr int EXPERT_PART = MOE_LAYER_WEIGHT_WORDS - MOE_LAYER_EXPERTS;

// The layer part: every case through moe_layer_top, moe_acc's raw values appended to out.
void run_layers(const TbArgs& a, std::vector<long long>& out) {
    const long cases = tb_meta(a, "layer_cases", 0, 1L << 16);
    const long parts = tb_meta(a, "layer_experts", 0, 1L << 16);
    const std::vector<long long> lc = tb_read(a, "layer_cases.txt"), hs = tb_read(a, "layer_h.txt");
    if ((long)lc.size() != 2 * cases) tb_fail("layer_cases.txt must hold layer_cases x (task experts) integers");
    for (long c = 0; c < cases; c++) {
        if (lc[2 * c] < 0 || lc[2 * c] >= NUM_TASKS) tb_fail("layer_cases.txt: a task outside 0..NUM_TASKS-1");
        if (lc[2 * c + 1] < 0 || lc[2 * c + 1] >= parts) tb_fail("layer_cases.txt: an expert part outside 0..layer_experts-1");
    }
    if ((long)hs.size() != cases * T * D) tb_fail("layer_h.txt must hold layer_cases x NUM_TOKENS x FEATURE_DIM integers");
    tb_check_raw<act_t>("layer_h.txt", hs, "act_t");
    tb_check_layout(a, "layer_layout.txt", layer_layout(), "moe_layer.h");
    const std::vector<axi_word_t> gates = tb_read_hex<axi_word_t>(a, "layer_gate.txt", AXI_WIDTH);
    const std::vector<axi_word_t> experts = tb_read_hex<axi_word_t>(a, "layer_experts.txt", AXI_WIDTH);
    if ((long)gates.size() != cases * MOE_LAYER_EXPERTS)
        tb_fail("layer_gate.txt must hold layer_cases x " + std::to_string(MOE_LAYER_EXPERTS) + " words");
    if ((long)experts.size() != parts * EXPERT_PART)
        tb_fail("layer_experts.txt must hold layer_experts x " + std::to_string(EXPERT_PART) + " words");

    std::vector<axi_word_t> h(MOE_LAYER_ACT_WORDS), w(MOE_LAYER_WEIGHT_WORDS), acc(MOE_LAYER_ACT_WORDS);
    {  // a task without a gate: status 1, nothing written
        for (auto& v : acc) v = axi_word_t(77);
        unsigned status = 5;
        moe_layer_top(h.data(), w.data(), acc.data(), NUM_TASKS, status);
        bool untouched = true;
        for (auto& v : acc) untouched = untouched && v == axi_word_t(77);
        if (status != 1 || !untouched) {
            std::fprintf(stderr, "error: moe_layer_top with task = NUM_TASKS: status %u, moe_acc %s\n", status,
                         untouched ? "untouched" : "written");
            std::exit(1);
        }
    }
    for (long c = 0; c < cases; c++) {
        for (int i = 0; i < MOE_LAYER_EXPERTS; i++) w[i] = gates[c * MOE_LAYER_EXPERTS + i];
        for (int i = 0; i < EXPERT_PART; i++) w[MOE_LAYER_EXPERTS + i] = experts[lc[2 * c + 1] * EXPERT_PART + i];
        for (auto& v : h) v = 0;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < D; i++) {
                const int lane = i % BB_A_PER_WORD;
                h[t * R + i / BB_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W) =
                    ap_uint<ACT_W>(hs[(c * T + t) * D + i] & ((1LL << ACT_W) - 1));
            }
        for (auto& v : acc) v = axi_word_t(77);  // moe_acc must be written completely
        unsigned status = 9;
        moe_layer_top(h.data(), w.data(), acc.data(), (unsigned)lc[2 * c], status);
        if (status != 0) tb_fail("moe_layer_top returned status " + std::to_string(status) + " on layer case " + std::to_string(c));
        for (int t = 0; t < T; t++)
            for (int i = 0; i < D; i++) {
                const int lane = i % BB_A_PER_WORD;
                out.push_back(ap_int<ACT_W>(acc[t * R + i / BB_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W)).to_int64());
            }
    }
}
}  // namespace

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    std::vector<long long> task = tb_read(a, "task.txt"), xs = tb_read(a, "x.txt"), ws = tb_read(a, "w_gate.txt");
    const long cases = tb_meta(a, "cases", 0, 1L << 20);
    if ((long)task.size() != cases) tb_fail("task.txt must hold cases = " + std::to_string(cases) + " integers");
    for (long long t : task)
        if (t < 0 || t >= NUM_TASKS) tb_fail("task.txt: a task outside 0.." + std::to_string(NUM_TASKS - 1));
    if ((long)xs.size() != cases * T * D) tb_fail("x.txt must hold cases x NUM_TOKENS x FEATURE_DIM integers");
    if ((long)ws.size() != cases * NUM_TASKS * E * D)
        tb_fail("w_gate.txt must hold cases x NUM_TASKS x NUM_EXPERTS x FEATURE_DIM integers");
    tb_check_raw<act_t>("x.txt", xs, "act_t");
    tb_check_raw<gate_weight_t>("w_gate.txt", ws, "gate_weight_t");

    std::vector<act_t> x(T * D);
    std::vector<gate_weight_t> w(NUM_TASKS * E * D);
    Outputs o;
    std::vector<long long> out;
    for (long c = 0; c < cases; c++) {
        for (int i = 0; i < T * D; i++) x[i] = from_raw<act_t>(xs[c * T * D + i]);
        for (int i = 0; i < NUM_TASKS * E * D; i++) w[i] = from_raw<gate_weight_t>(ws[c * NUM_TASKS * E * D + i]);
        if (c == 0) {  // a task without a gate: status 1, nothing written
            o.fill(77);
            o.status = 5;
            o.num_active = 9;
            o.run(x.data(), w.data(), NUM_TASKS);
            if (o.status != 1 || o.num_active != 0 || !o.all(77)) {
                std::fprintf(stderr, "error: moe_top with task = NUM_TASKS: status %u num_active %d, outputs %s\n",
                             o.status, (int)o.num_active, o.all(77) ? "untouched" : "written");
                return 1;
            }
        }
        o.fill(0);
        o.run(x.data(), w.data(), (unsigned)task[c]);
        out.push_back(o.status);
        for (auto& v : o.logits) out.push_back(raw_of(v));
        for (auto& v : o.p) out.push_back(raw_of(v));
        for (auto& v : o.topk_idx) out.push_back(v.to_int64());
        for (auto& v : o.topk_score) out.push_back(raw_of(v));
        for (auto& v : o.queue_len) out.push_back(v.to_int64());
        for (int e = 0; e < E; e++)
            for (int i = 0; i < (int)o.queue_len[e] && i < T; i++) out.push_back(o.queue_token[e * T + i].to_int64());
        for (int e = 0; e < E; e++)
            for (int i = 0; i < (int)o.queue_len[e] && i < T; i++) out.push_back(raw_of(o.queue_score[e * T + i]));
        out.push_back(o.num_active.to_int64());
        for (int i = 0; i < (int)o.num_active && i < E; i++) out.push_back(o.active[i].to_int64());
    }
    const size_t router_values = out.size();
    run_layers(a, out);
    return tb_finish("moe_tb", a, out, [router_values](size_t i) {
        if (i < router_values) return "router value " + std::to_string(i);
        const size_t k = i - router_values, per = (size_t)T * D;
        return "layer value " + std::to_string(i) + " (moe_acc of layer case " + std::to_string(k / per) + ", token " +
               std::to_string(k % per / D) + ", feature " + std::to_string(k % D) + ")";
    });
}
