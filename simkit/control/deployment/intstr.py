"""IntOrString scaling and Go rounding, shared by the Deployment, PDB and StatefulSet controllers.

Upstream: k8s.io/apimachinery/pkg/util/intstr/intstr.go (GetScaledValueFromIntOrPercent) and
Go's math.Round (half away from zero), used through k8s.io/utils/integer.RoundToInt32.
"""

from __future__ import annotations

import re

IntOrStr = int | str

_PERCENT = re.compile(r"^[+-]?[0-9]+%$")


class IntOrStringError(ValueError):
    """An IntOrString that is neither an int nor "N%" (Go returns an error; validation rejects it)."""


def scaled_value(value: IntOrStr, total: int, round_up: bool) -> int:
    """`intstr.GetScaledValueFromIntOrPercent(value, total, roundUp)`.

    An int comes back unchanged (no clamping); "N%" is ceil(N*total/100) when `round_up`, else floor,
    computed exactly in integers (Go uses float64, identical at Kubernetes' int32 sizes).
    """
    if isinstance(value, bool):
        raise IntOrStringError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise IntOrStringError("invalid value for IntOrString: invalid type: string is not a percentage")
    if not _PERCENT.match(value):
        raise IntOrStringError(
            f'invalid value "{value}": strconv.Atoi: parsing "{value[:-1]}": invalid syntax'
        )
    numerator = int(value[:-1]) * total
    return -(-numerator // 100) if round_up else numerator // 100


def value_or_default(value: IntOrStr | None, default: IntOrStr) -> IntOrStr:
    """`intstr.ValueOrDefault`: a nil pointer takes the default."""
    return default if value is None else value


def go_round_ratio(numerator: int, denominator: int) -> int:
    """Go's `math.Round(float64(numerator) / float64(denominator))`: half away from zero, exactly.

    Python's round() rounds half to even (2.5 -> 2); Kubernetes rounds 2.5 -> 3 and -2.5 -> -3.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))
