"""What the BOM formats share between the producers and consumers that write them.

Inventory (a producer) and cards (a consumer) both write CycloneDX and SPDX documents. The
spec versions and the SPDX document scaffolding live here, below both, so neither imports
the other. A leaf package: it imports nothing internal.
"""
