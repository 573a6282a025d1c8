"""What the C++ and the RTL can be built for: every kernel's ``check_config`` in one place, called by
:func:`python_ref.config.parse_config`, so a configuration the hardware cannot implement is rejected
with a message naming the field, instead of a C++ static_assert or an RTL elaboration error."""
from __future__ import annotations

from ..config import Config
from . import attention, exp, gelu, layernorm, linear, moe, softmax

CHECKS = (exp.check_config, gelu.check_config, softmax.check_config, layernorm.check_config, linear.check_config,
          attention.check_config, moe.check_config)


def check(cfg: Config) -> None:
    for c in CHECKS:
        c(cfg)
