"""The built-in sandbox upstream (``adapter``) and its signed usage callback (``callback``)."""

from plans.providers.sandbox.adapter import SandboxAdapter, sandbox_iccid, sandbox_msisdn

__all__ = ["SandboxAdapter", "sandbox_iccid", "sandbox_msisdn"]
