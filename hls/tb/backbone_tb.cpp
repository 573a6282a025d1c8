// C-simulation testbench of backbone_top, the whole frame (hls/tb/tb_io.h calling convention:
// backbone_tb <vector_dir>). Vector folder (cosim/backbone_vectors.py: backbone_csim):
//   meta.txt     cases
//   cases.txt    per case: task layers images
//   image.txt    the frames of every case, one after the other (case c's `images` frames), each
//                BACKBONE_IMAGE_WORDS AXI words (hex, no prefix): pack_vector_axi of pixel_t[C][H][W]
//   weights.txt  the packed weight image, BACKBONE_WEIGHT_WORDS AXI words (hex)
//   layout.txt   "<name> <word offset or size>" lines: the Python packer's layout, which must equal
//                backbone.h's constexpr table (exit 2 naming the first entry that differs)
//   expected.txt per case, per frame: NUM_TOKENS x FEATURE_DIM raw act_t (FixedM3ViT after `layers`
//                blocks; layers = NUM_LAYERS: the network's output)
// Before the cases the testbench calls backbone_top with a task, an image count and a layer count
// out of range and checks that each reports its status (1, 2, 3) and writes nothing (exit 1 otherwise).
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "backbone.h"
#include "tb_io.h"

namespace {
constexpr int T = NUM_TOKENS, D = FEATURE_DIM;

std::map<std::string, long long> cpp_layout() {
    std::map<std::string, long long> m = {
        {"patch_w", BB_PATCH_W}, {"patch_b", BB_PATCH_B}, {"pos", BB_POS},
        {"ln1_g", BB_LN1_G}, {"ln1_b", BB_LN1_B}, {"qkv_w", BB_QKV_W}, {"qkv_b", BB_QKV_B},
        {"proj_w", BB_PROJ_W}, {"proj_b", BB_PROJ_B}, {"ln2_g", BB_LN2_G}, {"ln2_b", BB_LN2_B},
        {"fc1_w", BB_FC1_W}, {"fc1_b", BB_FC1_B}, {"fc2_w", BB_FC2_W}, {"fc2_b", BB_FC2_B},
        {"dense_layer_words", BB_DENSE_LAYER_WORDS}, {"gate", BB_GATE}, {"experts", BB_EXPERTS},
        {"expert_w1", BB_X_W1}, {"expert_b1", BB_X_B1}, {"expert_w2", BB_X_W2}, {"expert_b2", BB_X_B2},
        {"expert_words", BB_EXPERT_WORDS}, {"moe_layer_words", BB_MOE_LAYER_WORDS},
        {"total_words", BACKBONE_WEIGHT_WORDS}};
    for (int L = 0; L <= NUM_LAYERS; L++) m["layer" + std::to_string(L)] = bb_layer_offset(L);
    return m;
}

long long lane(const axi_word_t& w, int j) {
    return ap_int<ACT_W>(w(j * ACT_W + ACT_W - 1, j * ACT_W)).to_int64();
}
}  // namespace

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    const std::vector<long long> cases = tb_read(a, "cases.txt");
    const long n_cases = tb_meta(a, "cases", 1, 1L << 16);
    if ((long)cases.size() != 3 * n_cases) tb_fail("cases.txt must hold cases x (task layers images) integers");
    long frames = 0;
    for (long c = 0; c < n_cases; c++) {
        const long long task = cases[3 * c], layers = cases[3 * c + 1], images = cases[3 * c + 2];
        if (task < 0 || task >= NUM_TASKS) tb_fail("cases.txt: task " + std::to_string(task) + " outside 0..NUM_TASKS-1");
        if (layers < 0 || layers > NUM_LAYERS) tb_fail("cases.txt: layers " + std::to_string(layers) + " outside 0..NUM_LAYERS");
        if (images < 1 || images > BACKBONE_MAX_IMAGES)
            tb_fail("cases.txt: images " + std::to_string(images) + " outside 1..BACKBONE_MAX_IMAGES");
        frames += images;
    }
    tb_check_layout(a, "layout.txt", cpp_layout(), "backbone.h");
    const std::vector<axi_word_t> weights = tb_read_hex<axi_word_t>(a, "weights.txt", AXI_WIDTH);
    if ((long)weights.size() != BACKBONE_WEIGHT_WORDS)
        tb_fail("weights.txt holds " + std::to_string(weights.size()) + " words, backbone.h's layout has " +
                std::to_string(BACKBONE_WEIGHT_WORDS));
    const std::vector<axi_word_t> images_all = tb_read_hex<axi_word_t>(a, "image.txt", AXI_WIDTH);
    if ((long)images_all.size() != frames * BACKBONE_IMAGE_WORDS)
        tb_fail("image.txt must hold " + std::to_string(frames) + " frames x BACKBONE_IMAGE_WORDS words");

    std::vector<axi_word_t> image(BACKBONE_MAX_IMAGES * BACKBONE_IMAGE_WORDS), out(BACKBONE_MAX_IMAGES * BACKBONE_OUT_WORDS);
    // Scalars out of range: the status names the scalar, nothing is written.
    const unsigned bad[3][3] = {{NUM_TASKS, NUM_LAYERS, 1}, {0, NUM_LAYERS, 0}, {0, NUM_LAYERS + 1, 1}};
    for (int k = 0; k < 3; k++) {
        for (auto& w : out) w = axi_word_t(77);
        unsigned status = 9;
        backbone_top(image.data(), weights.data(), out.data(), bad[k][0], bad[k][2], bad[k][1], status);
        bool untouched = true;
        for (auto& w : out) untouched = untouched && w == axi_word_t(77);
        if (status != (unsigned)k + 1 || !untouched) {
            std::fprintf(stderr, "error: backbone_top(task %u, layers %u, images %u): status %u (expected %d), output %s\n",
                         bad[k][0], bad[k][1], bad[k][2], status, k + 1, untouched ? "untouched" : "written");
            return 1;
        }
    }

    std::vector<long long> got;
    long frame = 0;
    for (long c = 0; c < n_cases; c++) {
        const unsigned task = cases[3 * c], layers = cases[3 * c + 1], images = cases[3 * c + 2];
        for (long i = 0; i < (long)images * BACKBONE_IMAGE_WORDS; i++)
            image[i] = images_all[frame * BACKBONE_IMAGE_WORDS + i];
        for (auto& w : out) w = 0;
        unsigned status = 9;
        backbone_top(image.data(), weights.data(), out.data(), task, images, layers, status);
        if (status != 0) tb_fail("backbone_top returned status " + std::to_string(status) + " on case " + std::to_string(c));
        for (unsigned f = 0; f < images; f++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < D; i++)
                    got.push_back(lane(out[f * BACKBONE_OUT_WORDS + t * bb_row_words(D) + i / BB_A_PER_WORD],
                                       i % BB_A_PER_WORD));
        frame += images;
    }
    return tb_finish("backbone_tb", a, got, [](size_t i) {
        const size_t per = (size_t)T * D;
        return "frame value " + std::to_string(i) + " (frame " + std::to_string(i / per) + ", token " +
               std::to_string(i % per / D) + ", feature " + std::to_string(i % D) + ")";
    });
}
