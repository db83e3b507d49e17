"""What a fit runs on and what it may use: the device, its memory, CPU threads."""

from .device import fits_on_device, resolve_device
from .memory import PeakMemory
from .threads import limit_threads

__all__ = ["PeakMemory", "fits_on_device", "limit_threads", "resolve_device"]
