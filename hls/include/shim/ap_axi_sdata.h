// Open C-simulation stand-in for the vendor's ap_axi_sdata.h (not shipped with the open ap_types
// headers). Only the part this project uses: hls::axis<T, U, TI, TD> with the members Vitis HLS
// maps to AXI-Stream side channels. This folder is on the include path of the open g++ flow only;
// vendor builds use the real header.
#pragma once

#include <ap_int.h>

namespace hls {

// Without side channels (U = TI = TD = 0) the vendor's hls::axis has data, keep, strb and last.
template <typename T, unsigned U = 0, unsigned TI = 0, unsigned TD = 0>
struct axis {
    static_assert(U == 0 && TI == 0 && TD == 0, "open C-sim shim: TUSER/TID/TDEST are not modelled");
    static constexpr unsigned data_bytes = (T::width + 7) / 8;
    T data;
    ap_uint<data_bytes> keep;
    ap_uint<data_bytes> strb;
    ap_uint<1> last;
};

}  // namespace hls
