"""Local AWS stand-in for `mpscan demo`: moto 5.2.5's server with the SageMaker model-registry
gaps filled (``moto_ext``, ``accounts``) and a sample registry (``seed``). It listens on
loopback only by default and answers no control routes (moto's ``/moto-api`` included)."""

from .server import StandIn, start_standin

__all__ = ["StandIn", "start_standin"]
