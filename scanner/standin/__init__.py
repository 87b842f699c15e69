"""Local AWS stand-in for mpscan: moto 5.2.5's server with the SageMaker model-registry gaps
filled (see ``moto_ext``) and fault/latency injection (see ``faults``, ``middleware``)."""

from .faults import Faults, Stats
from .server import StandIn, start_standin

__all__ = ["Faults", "StandIn", "Stats", "start_standin"]
