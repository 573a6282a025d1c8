// Multi-head self-attention of one layer on the MAC array: the numerical definition is
// python_ref/kernels/attention.py (docs/attention.md); this file equals it bit for bit. Per head:
//   q = q_t(Q_h), k = kv_t(K_h), v = kv_t(V_h)   (attention_config; shipped: operand_t, RND, SAT_SYM)
//   S_ij = sum_c q_ic k_jc                    exact (s_acc_t)
//   s_ij = score_t(S_ij * 2^-g)               one rounding (RND, SAT)
//   m_i = max_j s_ij;  e_ij = exp_neg(s_ij - m_i) (exact difference);  sigma_i = sum_j e_ij (exact)
//   r_i = reciprocal(sigma_i);  U_id = sum_j e_ij v_jd (exact, u_acc_t);  o_id = act_t(r_i * U_id)
// the last product exact (recip_t x u_acc_t), one assignment to act_t.
#pragma once

#include <ap_fixed.h>
#include <ap_int.h>

#include "exp.h"
#include "model_config.h"
#include "reciprocal.h"

typedef ap_uint<AXI_WIDTH> attention_word_t;
typedef attention_config::s_acc_t attention_s_acc_t;        // exact q.k, F_q + F_kv fraction bits
typedef attention_config::s_scaled_t attention_s_scaled_t;  // the same bits read as S * 2^-g
typedef attention_config::u_acc_t attention_u_acc_t;        // exact e.v, F_exp + F_kv fraction bits

constexpr int ATTENTION_A_PER_WORD = AXI_WIDTH / ACT_W;                  // activations per AXI word
constexpr int ATTENTION_QKV_ROW_WORDS = 3 * FEATURE_DIM / ATTENTION_A_PER_WORD;
constexpr int ATTENTION_OUT_ROW_WORDS = FEATURE_DIM / ATTENTION_A_PER_WORD;
constexpr int ATTENTION_HEAD_WORDS = HEAD_DIM / ATTENTION_A_PER_WORD;   // one head's columns of one block
constexpr int ATTENTION_QKV_WORDS = ATTENTION_MAX_TOKENS * ATTENTION_QKV_ROW_WORDS;
constexpr int ATTENTION_OUT_WORDS = ATTENTION_MAX_TOKENS * ATTENTION_OUT_ROW_WORDS;

// One layer: qkv (tokens x 3D act_t: Q | K | V, head h in columns h*d .. h*d+d-1 of each block) in,
// attn_out (tokens x D act_t) out, both row-major packed into AXI words (ATTENTION_A_PER_WORD values
// per word, lane = column % ATTENTION_A_PER_WORD, rows whole words). tokens: 1 .. ATTENTION_MAX_TOKENS.
void attention_top(const attention_word_t qkv[ATTENTION_QKV_WORDS], attention_word_t out[ATTENTION_OUT_WORDS],
                   unsigned tokens);
