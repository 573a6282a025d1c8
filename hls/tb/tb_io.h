// The one calling convention of every C-simulation testbench (the open C-sim, `make vitis-csim`):
//
//   <kernel>_tb <vector_dir> [<output_file>]
//
// <vector_dir> holds what scripts/export_vectors.py (cosim.csim.VectorSet) writes from python_ref:
// meta.txt ("<key> <integer>" lines: shapes), one text file per input (whitespace-separated decimal
// raw integers), and expected.txt (the outputs python_ref computes). The testbench writes its raw
// outputs to <output_file> (default out.txt in the working directory), compares them with
// expected.txt when it exists, prints "<kernel>_tb: <n> values, <m> mismatches" and exits 0 (equal),
// 1 (mismatch) or 2 (unusable input, with a message naming the file and the problem).
#pragma once

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

[[noreturn]] static inline void tb_fail(const std::string& msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    std::exit(2);
}

struct TbArgs {
    std::string dir;  // the vector folder
    std::string out;  // where the outputs go
    std::string path(const char* name) const { return dir + "/" + name; }
};

static inline TbArgs tb_args(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s <vector_dir> [<output_file>]\n", argv[0]);
        std::exit(2);
    }
    TbArgs a;
    a.dir = argv[1];
    a.out = argc == 3 ? argv[2] : "out.txt";
    std::ifstream probe(a.path("meta.txt"));
    if (!probe) tb_fail(a.path("meta.txt") + " not found: is " + a.dir + " a vector folder (scripts/export_vectors.py)?");
    return a;
}

static inline bool tb_read_ints(const std::string& path, std::vector<long long>& v) {
    std::ifstream f(path);
    if (!f) return false;
    long long x;
    while (f >> x) v.push_back(x);
    return f.eof();
}

// The integers of <dir>/<name>, or exit 2 naming the file.
static inline std::vector<long long> tb_read(const TbArgs& a, const char* name) {
    std::vector<long long> v;
    if (!tb_read_ints(a.path(name), v)) tb_fail("cannot read integers from " + a.path(name));
    return v;
}

// meta.txt value of <key>, checked against [lo, hi], or exit 2 naming the key.
static inline long long tb_meta(const TbArgs& a, const char* key, long long lo, long long hi) {
    std::ifstream f(a.path("meta.txt"));
    std::string k;
    long long v;
    while (f >> k >> v) {
        if (k != key) continue;
        if (v < lo || v > hi)
            tb_fail(a.path("meta.txt") + ": " + key + " = " + std::to_string(v) + " outside [" + std::to_string(lo) +
                    ", " + std::to_string(hi) + "]");
        return v;
    }
    tb_fail(a.path("meta.txt") + ": no entry '" + key + "'");
}

// <dir>/<name> as AXI words: whitespace-separated hex (no prefix), each at most `width` bits, into W
// (an ap_uint<width>); or exit 2 naming the file and the word.
template <class W>
std::vector<W> tb_read_hex(const TbArgs& a, const char* name, int width) {
    std::ifstream f(a.path(name));
    if (!f) tb_fail("cannot read " + a.path(name));
    std::vector<W> v;
    std::string s;
    while (f >> s) {
        if (s.size() * 4 > (size_t)width + 3) tb_fail(a.path(name) + ": word '" + s + "' wider than AXI_WIDTH");
        W w = 0;
        for (char c : s) {
            if (!std::isxdigit((unsigned char)c)) tb_fail(a.path(name) + ": '" + s + "' is not a hex word");
            const int d = std::isdigit((unsigned char)c) ? c - '0' : std::tolower(c) - 'a' + 10;
            w = (w << 4) | W(d);
        }
        v.push_back(w);
    }
    return v;
}

// <dir>/<name>: "<name> <integer>" lines, the Python packer's layout, which must equal the C++ one
// (`cpp`, from the header `header`) entry for entry; or exit 2 naming the first entry that differs.
static inline void tb_check_layout(const TbArgs& a, const char* name, const std::map<std::string, long long>& cpp,
                                   const char* header) {
    std::ifstream f(a.path(name));
    if (!f) tb_fail("cannot read " + a.path(name));
    std::string key;
    long long v;
    size_t seen = 0;
    while (f >> key >> v) {
        auto it = cpp.find(key);
        if (it == cpp.end()) tb_fail(a.path(name) + ": entry '" + key + "' is not in " + header + "'s layout");
        if (it->second != v)
            tb_fail(a.path(name) + ": " + key + " = " + std::to_string(v) + ", " + header + " has " +
                    std::to_string(it->second) + " (the packer and the C++ layout disagree)");
        seen++;
    }
    if (!f.eof()) tb_fail(a.path(name) + ": expected '<name> <integer>' lines");
    if (seen != cpp.size())
        tb_fail(a.path(name) + ": " + std::to_string(seen) + " entries, " + header + "'s layout has " +
                std::to_string(cpp.size()));
}

// Write the outputs, compare with expected.txt when present; the exit status of the testbench.
// `where(i)` describes output i in mismatch messages (default: its index).
static inline int tb_finish(const char* tb, const TbArgs& a, const std::vector<long long>& out,
                            const std::function<std::string(size_t)>& where = nullptr) {
    {
        std::ofstream f(a.out);
        for (long long x : out) f << x << "\n";
        if (!f) tb_fail("cannot write " + a.out);
    }
    std::vector<long long> exp;
    std::ifstream probe(a.path("expected.txt"));
    if (!probe) {
        std::printf("%s: %zu values written to %s (no expected.txt: not compared)\n", tb, out.size(), a.out.c_str());
        return 0;
    }
    if (!tb_read_ints(a.path("expected.txt"), exp) || exp.size() != out.size())
        tb_fail(a.path("expected.txt") + " must hold " + std::to_string(out.size()) + " integers");
    size_t bad = 0;
    for (size_t i = 0; i < out.size(); i++) {
        if (out[i] == exp[i]) continue;
        if (bad++ < 10) {
            std::string at = where ? where(i) : "value " + std::to_string(i);
            std::fprintf(stderr, "mismatch %s: got %lld expected %lld\n", at.c_str(), out[i], exp[i]);
        }
    }
    std::printf("%s: %zu values, %zu mismatches\n", tb, out.size(), bad);
    return bad ? 1 : 0;
}
