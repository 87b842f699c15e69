"""Local AWS stand-in for `mpscan demo`: moto 5.2.5's server with the SageMaker model-registry
gaps filled (``moto_ext``, ``accounts``) and a sample registry (``seed``). It listens on
loopback only by default and has no control routes of its own (moto's ``/moto-api`` aside)."""

from .server import StandIn, start_standin

__all__ = ["StandIn", "start_standin"]
