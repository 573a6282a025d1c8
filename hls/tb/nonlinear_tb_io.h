// Text-file I/O shared by the nonlinear units' C-simulation testbenches (exp, reciprocal,
// softmax, layernorm): whitespace-separated decimal integers (raw values of the fixed types).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

static inline bool tb_read_ints(const char* path, std::vector<long long>& v) {
    std::ifstream f(path);
    if (!f) return false;
    long long x;
    while (f >> x) v.push_back(x);
    return f.eof();
}

static inline bool tb_write_ints(const char* path, const std::vector<long long>& v) {
    std::ofstream f(path);
    for (long long x : v) f << x << "\n";
    return bool(f);
}

// Read the inputs or exit 2 with a message naming the file.
static inline std::vector<long long> tb_read_or_die(const char* path) {
    std::vector<long long> v;
    if (!tb_read_ints(path, v)) {
        std::fprintf(stderr, "error: cannot read integers from %s\n", path);
        std::exit(2);
    }
    return v;
}
